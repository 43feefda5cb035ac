import type { RoutingLead } from './lead.js';
import { matchRule, parseRoutingConfig, type RoutingRule, type RuleMatch } from './rules.js';

const rule = (match: RuleMatch): RoutingRule => ({ id: 'r', description: 'test rule', match, assignTo: { teamId: 't' } });
const lead = (extra: Partial<RoutingLead> = {}): RoutingLead => ({ email: 'kim@acme.com', ...extra });

describe('matchRule', () => {
  it('matches every lead when the rule has no criteria', () => {
    expect(matchRule(rule({}), lead())).toEqual({ matched: true, because: ['it matches every lead'] });
  });

  it('matches an exact grade, and a letter alone matches every grade of that letter', () => {
    expect(matchRule(rule({ grades: ['A1'] }), lead({ grade: 'A1' })).matched).toBe(true);
    expect(matchRule(rule({ grades: ['A1'] }), lead({ grade: 'A2' }))).toEqual({ matched: false, because: 'grade A2 is not one of A1' });
    expect(matchRule(rule({ grades: ['A'] }), lead({ grade: 'a3' }))).toEqual({ matched: true, because: ['grade A3 matches A'] });
    expect(matchRule(rule({ grades: ['A'] }), lead({ grade: 'B1' })).matched).toBe(false);
    expect(matchRule(rule({ grades: ['A'] }), lead())).toEqual({ matched: false, because: 'the lead has no grade yet' });
  });

  it('matches the lifecycle stage', () => {
    expect(matchRule(rule({ stages: ['MQL'] }), lead({ stage: 'MQL' })).matched).toBe(true);
    expect(matchRule(rule({ stages: ['MQL'] }), lead({ stage: 'LEAD' }))).toEqual({ matched: false, because: 'stage LEAD is not MQL' });
    expect(matchRule(rule({ stages: ['MQL'] }), lead()).matched).toBe(false);
  });

  it('matches a listed country', () => {
    expect(matchRule(rule({ countries: ['DE', 'AT'] }), lead({ country: 'at' }))).toEqual({ matched: true, because: ['country AT is listed'] });
    expect(matchRule(rule({ countries: ['DE'] }), lead({ country: 'FR' })).matched).toBe(false);
    expect(matchRule(rule({ countries: ['DE'] }), lead())).toEqual({ matched: false, because: "the lead's country is unknown (rule needs DE)" });
  });

  it('matches a country through its region', () => {
    expect(matchRule(rule({ regions: ['EMEA'] }), lead({ country: 'ZA' }))).toEqual({ matched: true, because: ['country ZA is in region EMEA'] });
    expect(matchRule(rule({ regions: ['NA'] }), lead({ country: 'CA' })).matched).toBe(true);
    expect(matchRule(rule({ regions: ['APAC'] }), lead({ country: 'JP' })).matched).toBe(true);
    expect(matchRule(rule({ regions: ['EMEA'] }), lead({ country: 'US' }))).toEqual({ matched: false, because: 'country US is not in region EMEA' });
  });

  it('treats countries and regions as one territory: either one suffices', () => {
    const territory = rule({ countries: ['BR'], regions: ['NA'] });
    expect(matchRule(territory, lead({ country: 'BR' })).matched).toBe(true);
    expect(matchRule(territory, lead({ country: 'US' })).matched).toBe(true);
    expect(matchRule(territory, lead({ country: 'DE' }))).toEqual({ matched: false, because: 'country DE is not in BR, region NA' });
  });

  it('matches product interest case-insensitively', () => {
    expect(matchRule(rule({ products: ['Analytics'] }), lead({ product: 'analytics' })).matched).toBe(true);
    expect(matchRule(rule({ products: ['Analytics'] }), lead({ product: 'Billing' })).matched).toBe(false);
    expect(matchRule(rule({ products: ['Analytics'] }), lead())).toEqual({ matched: false, because: 'the lead has no product interest' });
  });

  it('matches the source on the form id or the utm source', () => {
    const source = rule({ sources: ['contact-sales', 'g2'] });
    expect(matchRule(source, lead({ formId: 'contact-sales' }))).toEqual({ matched: true, because: ['form "contact-sales" is a listed source'] });
    expect(matchRule(source, lead({ formId: 'newsletter', utmSource: 'G2' }))).toEqual({ matched: true, because: ['utm source "G2" is a listed source'] });
    expect(matchRule(source, lead({ formId: 'newsletter', utmSource: 'google' }))).toEqual({
      matched: false,
      because: 'form "newsletter" and utm source "google" are not one of contact-sales, g2',
    });
    expect(matchRule(source, lead()).matched).toBe(false);
  });

  it('matches a minimum company size, and an unknown size does not qualify', () => {
    expect(matchRule(rule({ minCompanySize: 100 }), lead({ companySize: 100 })).matched).toBe(true);
    expect(matchRule(rule({ minCompanySize: 100 }), lead({ companySize: 99 }))).toEqual({ matched: false, because: 'company size 99 is below 100' });
    expect(matchRule(rule({ minCompanySize: 100 }), lead()).matched).toBe(false);
  });

  it('needs every criterion and explains each one that held', () => {
    const all = rule({ grades: ['A'], stages: ['MQL'], regions: ['EMEA'], minCompanySize: 50 });
    const good = lead({ grade: 'A2', stage: 'MQL', country: 'DE', companySize: 80 });
    expect(matchRule(all, good)).toEqual({
      matched: true,
      because: ['grade A2 matches A', 'stage MQL is listed', 'country DE is in region EMEA', 'company size 80 is at least 50'],
    });
    expect(matchRule(all, { ...good, companySize: 10 })).toEqual({ matched: false, because: 'company size 10 is below 50' });
  });
});

describe('parseRoutingConfig', () => {
  const raw = (rules: unknown[], extra: Record<string, unknown> = {}) => ({ version: '2026-11-01.1', fallbackOwnerId: 'dana', rules, ...extra });
  const good = { id: 'emea', description: 'EMEA MQLs', match: { stages: ['mql'], regions: ['emea'], countries: ['us'], grades: ['a1'] }, assignTo: { teamId: 'mm' } };

  it('reads an ordered rule set and normalises codes', () => {
    const set = parseRoutingConfig(raw([good, { id: 'rest', description: 'Everyone else', assignTo: { teamId: 'smb' } }], { freeMailDomains: ['Duck.com'] }));
    expect(set.version).toBe('2026-11-01.1');
    expect(set.rules.map((r) => r.id)).toEqual(['emea', 'rest']);
    expect(set.rules[0]?.match).toEqual({ grades: ['A1'], stages: ['MQL'], countries: ['US'], regions: ['EMEA'] });
    expect(set.rules[1]?.match).toEqual({});
    expect(set.freeMailDomains).toEqual(['duck.com']);
  });

  it.each([
    [[good, { ...good, id: 'x', match: { stages: ['SQL'] } }], /rules\[1\]\.match\.stages\[0\]: "SQL" is not one of LEAD, MQL/],
    [[{ ...good, match: { grade: ['A'] } }], /rules\[0\]\.match\.grade: unknown field/],
    [[{ ...good, match: { regions: ['Europe'] } }], /rules\[0\]\.match\.regions\[0\]: "Europe" is not a region/],
    [[{ ...good, match: { countries: ['Germany'] } }], /rules\[0\]\.match\.countries\[0\]: "Germany" is not an ISO/],
    [[{ ...good, match: { grades: ['1A'] } }], /rules\[0\]\.match\.grades\[0\]: "1A" is not a grade/],
    [[{ ...good, match: { products: [] } }], /rules\[0\]\.match\.products: must not be empty/],
    [[{ ...good, match: { minCompanySize: -1 } }], /rules\[0\]\.match\.minCompanySize: must be at least 0/],
    [[{ ...good, assignTo: {} }], /rules\[0\]\.assignTo\.teamId: expected a non-empty string/],
    [[good, good], /rules\[1\]\.id: duplicate rule id "emea"/],
    [[{ ...good, id: 'fallback' }], /rules\[0\]\.id: "fallback" is reserved/],
    ['not a list', /^rules: expected a list/],
  ])('rejects bad rules naming the path (%#)', (rules, message) => {
    expect(() => parseRoutingConfig(raw(rules as unknown[]))).toThrow(message);
  });

  it('requires a version and a fallback owner', () => {
    expect(() => parseRoutingConfig({ fallbackOwnerId: 'dana', rules: [] })).toThrow(/^version: expected a non-empty string/);
    expect(() => parseRoutingConfig({ version: '1', rules: [] })).toThrow(/^fallbackOwnerId: expected a non-empty string/);
    expect(() => parseRoutingConfig([])).toThrow(/routing config: expected an object, got a list/);
  });
});
