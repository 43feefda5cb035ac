import { ACCEPT_FOR_OTHERS_SCOPE, mayAcceptAs } from './acceptance.js';

const caller = (subject: string, ...scopes: string[]) => ({ subject, scopes: new Set(['leads:accept', ...scopes]) });

describe('mayAcceptAs', () => {
  it('lets an owner accept as itself only', () => {
    expect(mayAcceptAs(caller('owner:ana'), 'ana')).toBe(true);
    expect(mayAcceptAs(caller('owner:ana'), 'ben')).toBe(false);
    // A prefix or suffix of another id is not that id.
    expect(mayAcceptAs(caller('owner:an'), 'ana')).toBe(false);
    expect(mayAcceptAs(caller('team:crm-integration'), 'ana')).toBe(false);
  });

  it('lets a caller with the scope to act for others accept for anyone', () => {
    expect(mayAcceptAs(caller('team:sales-ops', ACCEPT_FOR_OTHERS_SCOPE), 'ben')).toBe(true);
  });
});
