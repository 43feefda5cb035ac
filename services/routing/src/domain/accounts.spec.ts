import { emailDomain, findAccountOwner, isFreeMailDomain, parseAccountOwners } from './accounts.js';

describe('emailDomain', () => {
  it('returns the lower-cased domain', () => {
    expect(emailDomain('Kim.Lee@ACME.com')).toBe('acme.com');
    expect(emailDomain('"odd@local"@sub.acme.co.uk')).toBe('sub.acme.co.uk');
  });

  it('returns undefined when there is no usable domain', () => {
    expect(emailDomain('kim')).toBeUndefined();
    expect(emailDomain('@acme.com')).toBeUndefined();
    expect(emailDomain('kim@localhost')).toBeUndefined();
    expect(emailDomain('kim@acme .com')).toBeUndefined();
  });
});

describe('isFreeMailDomain', () => {
  it('knows the big consumer mailbox providers', () => {
    for (const d of ['gmail.com', 'outlook.com', 'yahoo.com', 'Hotmail.com', 'icloud.com']) expect(isFreeMailDomain(d)).toBe(true);
    expect(isFreeMailDomain('acme.com')).toBe(false);
  });

  it('adds the rule set list to the built-in one', () => {
    expect(isFreeMailDomain('duck.com')).toBe(false);
    expect(isFreeMailDomain('duck.com', ['Duck.com'])).toBe(true);
  });
});

describe('findAccountOwner', () => {
  const accounts = new Map([['acme.com', 'avery'], ['eu.globex.com', 'jonas']]);

  it('finds the account of the exact domain and of a parent domain', () => {
    expect(findAccountOwner('acme.com', accounts)).toEqual({ domain: 'acme.com', ownerId: 'avery' });
    expect(findAccountOwner('uk.sales.acme.com', accounts)).toEqual({ domain: 'acme.com', ownerId: 'avery' });
    expect(findAccountOwner('eu.globex.com', accounts)).toEqual({ domain: 'eu.globex.com', ownerId: 'jonas' });
  });

  it('does not climb to a sibling or to the bare top-level domain', () => {
    expect(findAccountOwner('globex.com', accounts)).toBeUndefined();
    expect(findAccountOwner('acme.org', accounts)).toBeUndefined();
    expect(findAccountOwner('com', new Map([['com', 'x']]))).toBeUndefined();
  });
});

describe('parseAccountOwners', () => {
  it('reads a domain-to-owner map', () => {
    const list = parseAccountOwners({ version: '1', accounts: [{ domain: 'ACME.com', name: 'Acme', ownerId: 'avery' }] });
    expect(list.version).toBe('1');
    expect([...list.accountOwners]).toEqual([['acme.com', 'avery']]);
  });

  it('refuses a free-mail domain, a malformed domain and duplicates, naming the entry', () => {
    const parse = (accounts: unknown[]) => () => parseAccountOwners({ version: '1', accounts });
    expect(parse([{ domain: 'gmail.com', name: 'G', ownerId: 'a' }])).toThrow(/accounts\[0\]\.domain: "gmail.com" is a free-mail domain/);
    expect(parse([{ domain: 'https://acme.com', name: 'A', ownerId: 'a' }])).toThrow(/accounts\[0\]\.domain: .* is not a domain name/);
    expect(parse([{ domain: 'acme.com', name: 'A', ownerId: 'a' }, { domain: 'acme.com', name: 'A', ownerId: 'b' }])).toThrow(
      /accounts\[1\]\.domain: duplicate account domain "acme.com"/,
    );
    expect(parse([{ domain: 'acme.com', name: 'A' }])).toThrow(/accounts\[0\]\.ownerId/);
  });
});
