import { accountDomains, normaliseDomain } from './crm-accounts.js';

describe('normaliseDomain', () => {
  it('reads the domain out of a website as reps type it', () => {
    expect(normaliseDomain('https://www.Acme.com/en?utm=x')).toBe('acme.com');
    expect(normaliseDomain('http://acme.com:8080')).toBe('acme.com');
    expect(normaliseDomain('www2.globex.co.uk/')).toBe('globex.co.uk');
    expect(normaliseDomain('  initech.io. ')).toBe('initech.io');
  });

  it('keeps a subdomain other than www: a region can be an account of its own', () => {
    expect(normaliseDomain('https://uk.acme.com')).toBe('uk.acme.com');
  });

  it('gives nothing for a value that holds no domain', () => {
    expect(normaliseDomain('')).toBeUndefined();
    expect(normaliseDomain('n/a')).toBeUndefined();
    expect(normaliseDomain('localhost')).toBeUndefined();
    expect(normaliseDomain(null)).toBeUndefined();
    expect(normaliseDomain(42)).toBeUndefined();
  });
});

describe('accountDomains', () => {
  it('lists the primary domain first, then HubSpot additional domains, without repeats', () => {
    expect(accountDomains('acme.com', 'acme.de;www.acme.com; acme.fr')).toEqual(['acme.com', 'acme.de', 'acme.fr']);
  });

  it('is empty when the record names no domain', () => {
    expect(accountDomains(null, '')).toEqual([]);
  });
});
