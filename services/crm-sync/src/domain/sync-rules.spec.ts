import fc from 'fast-check';
import { OwnerDirectoryError, emailMarketingConsent, ownerLookupFrom, parseOwnerDirectory, parseOwnerPairs, sameCrmFields } from './sync-rules.js';

describe('sameCrmFields', () => {
  it('is true for the same fields in any order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (fields) => {
        const reversed = Object.fromEntries(Object.entries(fields).reverse());
        expect(sameCrmFields(reversed, fields)).toBe(true);
      }),
    );
  });

  it('sees a changed value, an added field and a dropped field', () => {
    const stored = { Email: 'a@example.com', Fit_Score__c: 40, HasOptedOutOfEmail: false };
    expect(sameCrmFields(stored, { ...stored, Fit_Score__c: 55 })).toBe(false);
    expect(sameCrmFields(stored, { ...stored, Lead_Grade__c: 'B2' })).toBe(false);
    expect(sameCrmFields(stored, { Email: 'a@example.com', Fit_Score__c: 40 })).toBe(false);
    expect(sameCrmFields(stored, { ...stored, HasOptedOutOfEmail: true })).toBe(false);
  });

  it('treats a number and its string as different (the CRM field type changed)', () => {
    expect(sameCrmFields({ Fit_Score__c: 40 }, { Fit_Score__c: '40' })).toBe(false);
  });

  it('is false when nothing was stored yet', () => {
    expect(sameCrmFields(undefined, { Email: 'a@example.com' })).toBe(false);
  });
});

describe('emailMarketingConsent', () => {
  it('is withdrawn by an unsubscribe whatever intake recorded', () => {
    expect(emailMarketingConsent(true, false)).toBe(true);
    expect(emailMarketingConsent(true, true)).toBe(false);
    expect(emailMarketingConsent(false, false)).toBe(false);
  });
});

describe('owner directory', () => {
  it('reads a file mapping with numeric HubSpot owner ids', () => {
    const lookup = ownerLookupFrom(parseOwnerDirectory({ owners: { 'avery-chen': 81234567, 'marcus-reed': '81234568' } }, 'owners.yaml'));
    expect(lookup('avery-chen')).toBe('81234567');
    expect(lookup('marcus-reed')).toBe('81234568');
    expect(lookup('nobody')).toBeUndefined();
  });

  it('reads owner pairs from one environment variable', () => {
    const lookup = ownerLookupFrom(parseOwnerPairs(' avery-chen=81234567, marcus-reed = 81234568 ,', 'HUBSPOT_OWNER_MAP'));
    expect(lookup('marcus-reed')).toBe('81234568');
  });

  it('names the source and the entry that is wrong', () => {
    expect(() => parseOwnerPairs('avery-chen', 'HUBSPOT_OWNER_MAP')).toThrow(/HUBSPOT_OWNER_MAP: "avery-chen" is not <routing owner id>=<CRM owner id>/);
    expect(() => parseOwnerDirectory({ owners: { 'Avery Chen': '1' } }, 'f.yaml')).toThrow(/f.yaml: "Avery Chen" is not a routing owner id/);
    expect(() => parseOwnerDirectory({ owners: { 'avery-chen': '' } }, 'f.yaml')).toThrow(/owner "avery-chen" needs a non-empty CRM owner id/);
    expect(() => parseOwnerDirectory({ owner: {} }, 'f.yaml')).toThrow(OwnerDirectoryError);
    expect(() => parseOwnerDirectory({ owners: {} }, 'f.yaml')).toThrow(/names no owners/);
  });
});
