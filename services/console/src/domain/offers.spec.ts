import { may, pagesFor } from './offers.js';

describe('what the console offers', () => {
  it('shows a viewer the lead and pipeline pages only, with no action', () => {
    const viewer = ['leads:read'];
    expect(pagesFor(viewer).map((p) => p.title)).toEqual(['Leads', 'Pipeline', 'Emails']);
    expect(may(viewer, 'activateRuleSet')).toBe(false);
    expect(may(viewer, 'replayParkedEvent')).toBe(false);
  });

  it('gives marketing ops scoring and replay, not owners or erasure', () => {
    const ops = ['leads:read', 'scoring:preview', 'routing:preview', 'rules:admin', 'events:replay', 'crm:replay'];
    expect(pagesFor(ops).map((p) => p.title)).toEqual(['Leads', 'Pipeline', 'Scoring', 'Routing', 'Emails']);
    expect(may(ops, 'activateRuleSet')).toBe(true);
    expect(may(ops, 'listOwners')).toBe(false);
    expect(may(ops, 'erase')).toBe(false);
  });

  it('offers nothing without scopes', () => {
    expect(pagesFor([])).toEqual([]);
  });
});
