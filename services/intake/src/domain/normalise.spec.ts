import fc from 'fast-check';
import { companyKey } from './company.js';
import { normaliseCountry } from './country.js';
import { contactNotices, normaliseContact, normaliseEmail, normaliseText, phoneToE164 } from './normalise.js';

describe('normaliseEmail', () => {
  it('trims and lower-cases the whole address, local part included', () => {
    expect(normaliseEmail('  Jane.Doe+Sales@Example.COM \n')).toBe('jane.doe+sales@example.com');
  });

  it('strips nothing else: dots and +tags stay, so two people are never merged by guesswork', () => {
    expect(normaliseEmail('j.a.n.e+tag@gmail.com')).toBe('j.a.n.e+tag@gmail.com');
  });

  it('makes composed and decomposed accents one address', () => {
    expect(normaliseEmail('Jose\u0301@example.com')).toBe(normaliseEmail('JOS\u00c9@example.com'));
  });

  it('is idempotent for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), (a, b) => {
        for (const email of [a, b, `  ${a}@${b} `]) {
          const once = normaliseEmail(email);
          expect(normaliseEmail(once)).toBe(once);
        }
      }),
    );
  });
});

describe('normaliseText', () => {
  it('trims, collapses inner whitespace and composes to NFC', () => {
    expect(normaliseText('  Ange\u0301lique \t  de   la\u00a0Cruz ')).toBe('Ang\u00e9lique de la Cruz');
    expect(normaliseText(undefined)).toBe('');
  });
});

describe('normaliseCountry', () => {
  it.each([
    ['Germany', 'DE'],
    ['germany', 'DE'],
    ['DE', 'DE'],
    ['de', 'DE'],
    ['DEU', 'DE'],
    ['United States', 'US'],
    ['USA', 'US'],
    ['usa', 'US'],
    ['United  Kingdom', 'GB'],
    ['UK', 'GB'],
    ['  France ', 'FR'],
    ['C\u00f4te d\u2019Ivoire', 'CI'],
  ])('reads %j as %s', (input, expected) => {
    expect(normaliseCountry(input)).toBe(expected);
  });

  it.each([
    ['Deutschland', 'DE'],
    ['deutschland', 'DE'],
    ['Allemagne', 'DE'],
    ['Alemania', 'DE'],
    ['Österreich', 'AT'],
    ['Osterreich', 'AT'],
    ['Schweiz', 'CH'],
    ['Suisse', 'CH'],
    ['Royaume-Uni', 'GB'],
    ['Vereinigte Staaten', 'US'],
    ['Estados Unidos', 'US'],
    ['Nederland', 'NL'],
    ['Polska', 'PL'],
    ['Česko', 'CZ'],
    ['España', 'ES'],
    ['Brasil', 'BR'],
    ['Italia', 'IT'],
    ['Türkiye', 'TR'],
    ['Ελλάδα', 'GR'],
    ['Россия', 'RU'],
    ['日本', 'JP'],
    ['中国', 'CN'],
    ['대한민국', 'KR'],
    ['Cote d\'Ivoire', 'CI'],
  ])('reads %j, a name in another language or without its accents, as %s', (input, expected) => {
    expect(normaliseCountry(input)).toBe(expected);
  });

  it.each(['', '   ', 'Narnia', 'XX', 'ZZZ', '276', 'Bavaria', 'England'])('does not recognise %j', (input) => {
    expect(normaliseCountry(input)).toBeUndefined();
  });
});

describe('phoneToE164', () => {
  it('reads a national number in the contact country', () => {
    expect(phoneToE164('030 1234567', 'DE')).toBe('+49301234567');
    expect(phoneToE164('(415) 555-2671', 'US')).toBe('+14155552671');
  });

  it('keeps an international number in its own country whatever the contact country', () => {
    expect(phoneToE164('+44 20 7946 0958', 'DE')).toBe('+442079460958');
  });

  it('gives no E.164 form for a national number without a country, or an invalid one', () => {
    expect(phoneToE164('415 555 2671', undefined)).toBeUndefined();
    expect(phoneToE164('12', 'US')).toBeUndefined();
    expect(phoneToE164('call me after 5pm', 'US')).toBeUndefined();
    expect(phoneToE164('030 1234567', 'AQ')).toBeUndefined();
  });

  it('never throws, whatever was typed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom(undefined, 'US', 'DE', 'AQ', 'zz'), (phone, country) => {
        const e164 = phoneToE164(phone, country);
        if (e164 !== undefined) expect(e164).toMatch(/^\+[1-9]\d{1,14}$/);
      }),
    );
  });
});

describe('companyKey', () => {
  it.each([
    ['Acme, Inc.', 'acme'],
    ['ACME Inc', 'acme'],
    ['Acme Incorporated', 'acme'],
    ['Acme Corp.', 'acme'],
    ['Müller GmbH & Co. KG', 'müller'],
    ['Widgets Pty. Ltd.', 'widgets'],
    ['Globex L.L.C.', 'globex'],
    ['Initech  Limited', 'initech'],
    ['Fiat S.p.A.', 'fiat'],
    ['Sunrise Spa', 'sunrise spa'],
    ['Johnson and Johnson', 'johnson and johnson'],
    ['Limited', 'limited'],
    ['', ''],
  ])('matches %j as %j', (company, key) => {
    expect(companyKey(company)).toBe(key);
  });

  it('is stable: a key is its own key', () => {
    const word = fc.oneof(fc.string(), fc.constantFrom('Acme', 'inc.', 'Co', '&', 'and', ',', '.', ' ', 'S.p.A.', 'GmbH'));
    fc.assert(
      fc.property(fc.array(word).map((words) => words.join(' ')), (company) => {
        const key = companyKey(company);
        expect(companyKey(key)).toBe(key);
      }),
    );
  });
});

describe('normaliseContact', () => {
  const raw = {
    email: ' Jane.Doe@Example.com ',
    firstName: '  Jane ',
    lastName: 'Doe  Smith',
    phone: ' 030 1234567 ',
    company: 'Example  GmbH',
    jobTitle: ' Head of   Data ',
    country: 'germany',
    companySize: 250,
    industry: ' Software ',
  };

  it('normalises every field for storage and matching', () => {
    expect(normaliseContact(raw)).toEqual({
      email: 'jane.doe@example.com',
      emailDomain: 'example.com',
      firstName: 'Jane',
      lastName: 'Doe Smith',
      phone: '030 1234567',
      phoneE164: '+49301234567',
      company: 'Example GmbH',
      companyKey: 'example',
      jobTitle: 'Head of Data',
      country: 'DE',
      companySize: 250,
      industry: 'Software',
    });
  });

  it('keeps a bad phone as typed, without E.164, and still accepts the contact', () => {
    const contact = normaliseContact({ ...raw, phone: ' ext. 12 ' });
    expect(contact.phone).toBe('ext. 12');
    expect(contact.phoneE164).toBeUndefined();
    expect(contactNotices({ ...raw, phone: ' ext. 12 ' })).toEqual([]);
  });

  it('treats a company size of 0 as unknown and fills empty optional fields with empty strings', () => {
    const contact = normaliseContact({ email: 'a@b.co', companySize: 0 });
    expect(contact).toMatchObject({ firstName: '', company: '', companyKey: '', phone: '', industry: '' });
    expect(contact.companySize).toBeUndefined();
    expect(contact.country).toBeUndefined();
  });

  it('takes the domain after the last @', () => {
    expect(normaliseContact({ email: '"a@b"@Corp.Example' }).emailDomain).toBe('corp.example');
    expect(normaliseContact({ email: 'no-at-sign' }).emailDomain).toBe('');
  });
});

describe('contactNotices', () => {
  it('keeps a lead whose country it cannot name: the field is flagged by name and left empty on the profile', () => {
    for (const country of ['Narnia', 'Bavaria', 'Europe']) {
      expect(contactNotices({ email: 'a@b.co', country })).toEqual([{ field: 'contact.country', description: expect.stringContaining('recognises') }]);
      expect(normaliseContact({ email: 'a@b.co', country }).country).toBeUndefined();
    }
  });

  it('has nothing to flag for a country in another language', () => {
    expect(contactNotices({ email: 'a@b.co', country: 'Deutschland' })).toEqual([]);
  });

  it('flags an empty country never, and a negative or fractional company size as unknown', () => {
    expect(contactNotices({ email: 'a@b.co', country: '  ' })).toEqual([]);
    expect(contactNotices({ email: 'a@b.co', companySize: -1 })).toEqual([{ field: 'contact.company_size', description: expect.any(String) }]);
    expect(contactNotices({ email: 'a@b.co', companySize: 2.5 })).toHaveLength(1);
    expect(normaliseContact({ email: 'a@b.co', companySize: 2.5 }).companySize).toBeUndefined();
  });

  it('never echoes the value it could not read', () => {
    const [notice] = contactNotices({ email: 'a@b.co', country: 'Secret Street 5' });
    expect(JSON.stringify(notice)).not.toContain('Secret');
  });
});
