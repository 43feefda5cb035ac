import fc from 'fast-check';
import { parseWebForm, setAsideOptionalFields, type WebFormSubmission } from './web-form.js';
import { FORM_FIELDS } from './web-form-fields.js';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

const expected: WebFormSubmission = {
  idempotencyKey: 'k-1',
  visitorId: 'v.123',
  contact: {
    email: 'jane@example.com',
    firstName: 'Jane',
    lastName: 'Doe',
    phone: '+49 30 1234567',
    company: 'Example GmbH',
    jobTitle: 'CTO',
    country: 'Germany',
    companySize: 250,
    industry: 'Software',
  },
  source: {
    formId: 'contact-sales',
    pageUrl: 'https://example.com/pricing',
    utmSource: 'google',
    utmMedium: 'cpc',
    utmCampaign: 'spring',
    utmTerm: 'crm',
    utmContent: 'ad-1',
    referrer: 'https://google.com/',
    campaignId: '701Dn00000SPRNGAAA',
  },
  interest: { product: 'Pro', message: 'Call me,\nplease.' },
  consent: { emailMarketing: true, wordingVersion: 'v3', givenAt: new Date('2025-03-01T10:00:00Z') },
};

const flatForm = new URLSearchParams({
  idempotency_key: 'k-1',
  visitor_id: 'v.123',
  email: 'jane@example.com',
  first_name: 'Jane',
  last_name: 'Doe',
  phone: '+49 30 1234567',
  company: 'Example GmbH',
  job_title: 'CTO',
  country: 'Germany',
  company_size: '250',
  industry: 'Software',
  form_id: 'contact-sales',
  page_url: 'https://example.com/pricing',
  utm_source: 'google',
  utm_medium: 'cpc',
  utm_campaign: 'spring',
  utm_term: 'crm',
  utm_content: 'ad-1',
  referrer: 'https://google.com/',
  campaign_id: '701Dn00000SPRNGAAA',
  product: 'Pro',
  message: 'Call me,\nplease.',
  consent_email_marketing: 'on',
  consent_wording_version: 'v3',
  consent_given_at: '2025-03-01T10:00:00Z',
}).toString();

const fields = (violations: { field: string }[]) => violations.map((v) => v.field);

describe('parseWebForm: what a form sends', () => {
  it('reads nested JSON shaped like SubmitLeadRequest', () => {
    const { idempotencyKey, visitorId, ...groups } = expected;
    const body = JSON.stringify({ idempotencyKey, visitorId, ...groups });
    expect(parseWebForm(body, JSON_TYPE)).toEqual({ request: expected, violations: [], notices: [], trapped: false });
  });

  it('reads the same submission from a url-encoded HTML form with snake_case names', () => {
    expect(parseWebForm(flatForm, `${FORM_TYPE}; charset=UTF-8`)).toEqual({ request: expected, violations: [], notices: [], trapped: false });
    expect(parseWebForm(new TextEncoder().encode(flatForm), FORM_TYPE).request).toEqual(expected);
  });

  it('reads a body the HTTP layer already parsed, flat camelCase, and snake_case inside groups', () => {
    const parsed = { email: 'a@b.co', firstName: 'Al', utmSource: 'x', contact: { job_title: 'CEO' } };
    const { request, violations } = parseWebForm(parsed, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request.contact).toMatchObject({ email: 'a@b.co', firstName: 'Al', jobTitle: 'CEO' });
    expect(request.source.utmSource).toBe('x');
  });

  it('reads group-qualified flat names such as contact[email]', () => {
    const { request } = parseWebForm('contact%5Bemail%5D=a%40b.co&source.utm_medium=email', FORM_TYPE);
    expect(request.contact.email).toBe('a@b.co');
    expect(request.source.utmMedium).toBe('email');
  });

  it('fills what was not sent with the proto defaults', () => {
    const { request, violations } = parseWebForm({ email: 'a@b.co' }, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request).toEqual({
      contact: { email: 'a@b.co', firstName: '', lastName: '', phone: '', company: '', jobTitle: '', country: '', companySize: 0, industry: '' },
      source: { formId: '', pageUrl: '', utmSource: '', utmMedium: '', utmCampaign: '', utmTerm: '', utmContent: '', referrer: '', campaignId: '' },
      interest: { product: '', message: '' },
      consent: { emailMarketing: false, wordingVersion: '' },
    });
  });

  it('treats JSON null as not given', () => {
    const { request, violations } = parseWebForm({ email: 'a@b.co', phone: null, contact: null }, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request.contact.phone).toBe('');
  });

  it.each([
    ['on', true], ['true', true], ['1', true], ['yes', true], ['YES', true], [true, true], [1, true],
    ['off', false], ['false', false], ['0', false], ['no', false], ['', false], [false, false],
  ])('reads the consent checkbox value %j as %j', (value, consent) => {
    const { request, violations } = parseWebForm({ email: 'a@b.co', consent_email_marketing: value }, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request.consent.emailMarketing).toBe(consent);
  });

  it('keeps a valid visitor id and drops a malformed one without losing the lead', () => {
    expect(parseWebForm({ email: 'a@b.co', visitorId: 'GA1.2.3' }, JSON_TYPE).request.visitorId).toBe('GA1.2.3');
    const { request, violations } = parseWebForm({ email: 'a@b.co', visitorId: 'not a cookie!' }, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request).not.toHaveProperty('visitorId');
  });

  it('accepts numbers for the phone, form id and company size, as form builders send them', () => {
    const { request, violations } = parseWebForm({ email: 'a@b.co', phone: 4155552671, formId: 1042, companySize: 50 }, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request.contact).toMatchObject({ phone: '4155552671', companySize: 50 });
    expect(request.source.formId).toBe('1042');
  });
});

describe('parseWebForm: what it refuses', () => {
  it('refuses a MongoDB operator object in a string field and never passes it on', () => {
    const { request, violations } = parseWebForm({ email: { $gt: '' }, contact: { firstName: { $ne: null } } }, JSON_TYPE);
    expect(violations).toEqual([
      { field: 'contact.email', description: 'must be a string, not an object' },
      { field: 'contact.first_name', description: 'must be a string, not an object' },
    ]);
    expect(request.contact.email).toBe('');
    expect(request.contact.firstName).toBe('');
  });

  it('refuses lists, booleans and numbers where a string belongs', () => {
    const { violations } = parseWebForm({ email: ['a@b.co'], first_name: true, last_name: 7, utm_source: 1 }, JSON_TYPE);
    expect(violations.map((v) => [v.field, v.description])).toEqual([
      ['contact.email', 'must be a string, not a list'],
      ['contact.first_name', 'must be a string, not a boolean'],
      ['contact.last_name', 'must be a string, not a number'],
      ['source.utm_source', 'must be a string, not a number'],
    ]);
  });

  it.each([true, {}, ['50']])('refuses the company size %j, a value of the wrong type', (size) => {
    expect(fields(parseWebForm({ email: 'a@b.co', company_size: size }, JSON_TYPE).violations)).toEqual(['contact.company_size']);
  });

  it.each([-1, 2.5, '50-200', '1,000', 10_000_001, 'lots'])('keeps the lead with the company size %j, left unknown and flagged', (size) => {
    const { request, violations, notices } = parseWebForm({ email: 'a@b.co', company_size: size }, JSON_TYPE);
    expect(violations).toEqual([]);
    expect(request.contact.companySize).toBe(0);
    expect(fields(notices)).toEqual(['contact.company_size']);
  });

  it('refuses a phone that is a negative or fractional number, and keeps a consent that is not yes/no as no, flagged', () => {
    const { request, violations, notices } = parseWebForm({ email: 'a@b.co', phone: -5, consent: { emailMarketing: 'maybe' } }, JSON_TYPE);
    expect(fields(violations)).toEqual(['contact.phone']);
    expect(fields(notices)).toEqual(['consent.email_marketing']);
    expect(request.consent.emailMarketing).toBe(false);
    expect(fields(parseWebForm({ email: 'a@b.co', phone: 1.5 }, JSON_TYPE).violations)).toEqual(['contact.phone']);
  });

  it('keeps the lead with a consent time that is not an ISO 8601 date-time with a zone, left empty and flagged', () => {
    for (const givenAt of ['yesterday', '2025-03-01', '2025-03-01T10:00:00', '2025-13-45T10:00:00Z']) {
      const { request, violations, notices } = parseWebForm({ email: 'a@b.co', consent_given_at: givenAt }, JSON_TYPE);
      expect(violations).toEqual([]);
      expect(request.consent.givenAt).toBeUndefined();
      expect(fields(notices)).toEqual(['consent.given_at']);
    }
    expect(fields(parseWebForm({ email: 'a@b.co', consent_given_at: 1700000000000 }, JSON_TYPE).violations)).toEqual(['consent.given_at']);
  });

  it('flags nothing in a clean submission', () => {
    expect(parseWebForm(flatForm.toString(), FORM_TYPE).notices).toEqual([]);
  });

  it('refuses a field given twice, under two names or repeated in a form', () => {
    const twice = parseWebForm({ email: 'a@b.co', contact: { email: 'c@d.co' } }, JSON_TYPE);
    expect(twice.violations).toEqual([{ field: 'contact.email', description: 'is given more than once (as email, contact.email)' }]);
    expect(twice.request.contact.email).toBe('');
    expect(parseWebForm('email=a%40b.co&email=c%40d.co', FORM_TYPE).violations).toEqual([
      { field: 'contact.email', description: 'is given more than once in the form (as email)' },
    ]);
    expect(fields(parseWebForm({ first_name: 'A', firstName: 'B', email: 'a@b.co' }, JSON_TYPE).violations)).toEqual(['contact.first_name']);
  });

  it('refuses a JSON body that gives a key twice, naming the field, instead of keeping the last value', () => {
    const flat = parseWebForm('{"email":"ada@example.com","last_name":"L","email":"grace@example.com"}', JSON_TYPE);
    expect(flat.violations).toEqual([{ field: 'contact.email', description: 'is given more than once in the JSON body' }]);
    expect(flat.request.contact.email).toBe('');
    const nested = parseWebForm('{"contact":{"email":"a@b.co","firstName":"Ada","firstName":"Grace"}}', JSON_TYPE);
    expect(nested.violations).toEqual([{ field: 'contact.first_name', description: 'is given more than once in the JSON body' }]);
  });

  it('sees a duplicated key however it is escaped, and in fields it does not read', () => {
    expect(fields(parseWebForm('{"email":"a@b.co","\\u0065mail":"c@d.co"}', JSON_TYPE).violations)).toEqual(['contact.email']);
    expect(fields(parseWebForm('{"email":"a@b.co","tracking":{"x":1,"x":2}}', JSON_TYPE).violations)).toEqual(['tracking.x']);
  });

  it('takes the same key in different objects, and keys that only look alike inside strings', () => {
    const { violations } = parseWebForm('{"email":"a@b.co","contact":{"company":"x"},"source":{"formId":"f"},"message":"\\"email\\":\\"x\\", {\\"email\\":1}"}', JSON_TYPE);
    expect(violations).toEqual([]);
  });

  it('refuses a group that is not an object', () => {
    expect(fields(parseWebForm({ email: 'a@b.co', contact: 'x', source: [1] }, JSON_TYPE).violations)).toEqual(['contact', 'source']);
  });

  it('refuses header and SMTP injection in single-line fields but allows lines in the message', () => {
    const { violations } = parseWebForm(
      { email: 'a@b.co', first_name: 'Jane\r\nBcc: x@y.z', company: 'Acme\u0000', message: 'Hi,\r\nthanks' },
      JSON_TYPE,
    );
    expect(fields(violations)).toEqual(['contact.first_name', 'contact.company']);
  });

  it.each([
    ['null', null],
    ['a list', [{ email: 'a@b.co' }]],
    ['a number', 42],
    ['a JSON string', '"a@b.co"'],
    ['a JSON list', '[1,2]'],
    ['a Map', new Map([['email', 'a@b.co']])],
  ])('refuses a body that is %s', (_, body) => {
    expect(parseWebForm(body, JSON_TYPE).violations).toEqual([{ field: 'body', description: 'must be an object of form fields' }]);
  });

  it('refuses malformed JSON and invalid UTF-8 with a clean violation', () => {
    expect(parseWebForm('{"email": ', JSON_TYPE).violations).toEqual([{ field: 'body', description: 'is not valid JSON' }]);
    const badBytes = Uint8Array.from([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x7d]);
    expect(parseWebForm(badBytes, JSON_TYPE).violations).toEqual([{ field: 'body', description: 'is not valid UTF-8' }]);
  });

  it.each(['', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx'])(
    'refuses the content type %j',
    (contentType) => {
      expect(fields(parseWebForm({ email: 'a@b.co' }, contentType).violations)).toEqual(['content_type']);
    },
  );

  it('refuses bodies nested deeper than three levels, however deep, without reading them', () => {
    expect(fields(parseWebForm({ contact: { email: { $gt: '' } } }, JSON_TYPE).violations)).toEqual(['contact.email']);
    expect(parseWebForm({ contact: { email: { $in: [] } } }, JSON_TYPE).violations).toEqual([
      { field: 'body', description: 'is nested deeper than 3 levels' },
    ]);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(fields(parseWebForm(`{"email": ${deep}}`, JSON_TYPE).violations)).toEqual(['body']);
  });

  it('ignores unknown fields and never copies them into the request', () => {
    const { request, violations } = parseWebForm(
      { email: 'a@b.co', isAdmin: true, $where: 'sleep(1000)', contact: { role: 'owner', $set: { x: 1 } }, hp_field: '' },
      JSON_TYPE,
    );
    expect(violations).toEqual([]);
    expect(JSON.stringify(request)).not.toMatch(/isAdmin|\$where|role|\$set|hp_field/);
  });

  it('cannot be used for prototype pollution', () => {
    const json = '{"__proto__": {"polluted": 1, "email": "x@y.z"}, "constructor": {"prototype": {"polluted": 1}}, "email": "a@b.co"}';
    const fromJson = parseWebForm(json, JSON_TYPE);
    const fromForm = parseWebForm('__proto__%5Bpolluted%5D=1&__proto__=x&constructor=y&email=a%40b.co', FORM_TYPE);
    for (const { request, violations } of [fromJson, fromForm]) {
      expect(violations).toEqual([]);
      expect(request.contact.email).toBe('a@b.co');
      expect(Object.getPrototypeOf(request)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(request.contact)).toBe(Object.prototype);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

// Every name the parser reads, and the ones an attacker would try, so random bodies hit real fields.
const interestingKey = fc.constantFrom(
  ...FORM_FIELDS.flatMap((f) => [...f.flatNames]),
  'contact', 'source', 'interest', 'consent', '__proto__', 'constructor', 'prototype', '$where', 'toString',
);
const nestedKey = fc.constantFrom(...FORM_FIELDS.flatMap((f) => [...f.nestedNames]), '$gt', '__proto__');
const hostileBody = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(interestingKey, fc.jsonValue({ maxDepth: 3 })),
  fc.record({
    contact: fc.dictionary(nestedKey, fc.jsonValue({ maxDepth: 2 })),
    consent: fc.dictionary(nestedKey, fc.jsonValue({ maxDepth: 2 })),
    email: fc.jsonValue({ maxDepth: 1 }),
  }),
);

/** The strings a body could legitimately contribute: its string values and its whole numbers. */
function leaves(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (typeof value === 'number') into.add(String(value));
  else if (typeof value === 'object' && value !== null) for (const child of Object.values(value)) leaves(child, into);
  return into;
}

function expectWellTyped(request: WebFormSubmission) {
  for (const key of ['idempotencyKey', 'visitorId'] as const) {
    if (key in request) expect(typeof request[key]).toBe('string');
  }
  for (const group of [request.contact, request.source, request.interest, request.consent]) {
    for (const [key, value] of Object.entries(group)) {
      const type = key === 'companySize' ? 'number' : key === 'emailMarketing' ? 'boolean' : key === 'givenAt' ? 'object' : 'string';
      expect([key, typeof value]).toEqual([key, type]);
      if (key === 'givenAt') expect(value).toBeInstanceOf(Date);
    }
  }
}

describe('parseWebForm: properties', () => {
  it('never throws for any JSON value, parsed or raw, and never puts an object or list in a string field', () => {
    fc.assert(
      fc.property(hostileBody, fc.boolean(), (body, raw) => {
        const { request } = parseWebForm(raw ? JSON.stringify(body) : body, JSON_TYPE);
        expectWellTyped(request);
      }),
      { numRuns: 500 },
    );
  });

  it('only ever puts strings into the request that came from the input', () => {
    fc.assert(
      fc.property(hostileBody, (body) => {
        const { request } = parseWebForm(body, JSON_TYPE);
        const allowed = leaves(body);
        const produced = [request.idempotencyKey, request.visitorId, ...[request.contact, request.source, request.interest, request.consent].flatMap(Object.values)];
        for (const text of produced) {
          if (typeof text === 'string' && text !== '') expect(allowed).toContain(text);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for arbitrary text or bytes under either content type', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array()), fc.constantFrom(JSON_TYPE, FORM_TYPE), (body, type) => {
        expectWellTyped(parseWebForm(body, type).request);
      }),
    );
  });
});

describe('setAsideOptionalFields', () => {
  const submission = parseWebForm({ email: 'a@b.co', page_url: '/pricing', job_title: 'x'.repeat(300), company_size: 40 }, JSON_TYPE).request;

  it('empties the optional fields the contract faults and flags each, keeping the rest of the lead', () => {
    const settled = setAsideOptionalFields(submission, [
      { field: 'source.page_url', description: 'value must be a valid URI' },
      { field: 'contact.job_title', description: 'value length must be at most 200 characters' },
    ]);
    expect(settled.refusals).toEqual([]);
    expect(settled.notices).toEqual([
      { field: 'source.page_url', description: 'value must be a valid URI; left empty' },
      { field: 'contact.job_title', description: 'value length must be at most 200 characters; left empty' },
    ]);
    expect(settled.request.source.pageUrl).toBe('');
    expect(settled.request.contact).toMatchObject({ jobTitle: '', email: 'a@b.co', companySize: 40 });
    expect(submission.source.pageUrl).toBe('/pricing');
  });

  it('still refuses a fault in the email or in the request\'s own fields', () => {
    const settled = setAsideOptionalFields(submission, [
      { field: 'contact.email', description: 'value must be a valid email address' },
      { field: 'idempotency_key', description: 'value length must be at most 128 characters' },
    ]);
    expect(fields(settled.refusals)).toEqual(['contact.email', 'idempotency_key']);
    expect(settled.notices).toEqual([]);
  });
});

describe('parseWebForm: the honeypot', () => {
  const honeypot = { honeypot: 'company_url' };

  it('finds a filled honeypot in a urlencoded or JSON body, whatever else the body holds', () => {
    expect(parseWebForm('email=a%40b.co&company_url=http%3A%2F%2Fspam.example', FORM_TYPE, honeypot).trapped).toBe(true);
    expect(parseWebForm({ email: 'a@b.co', company_url: 'http://spam.example' }, JSON_TYPE, honeypot).trapped).toBe(true);
    // A bot's body may be broken too; it is still a bot's.
    expect(parseWebForm({ email: 'not an email', company_url: 'x', phone: { $gt: '' } }, JSON_TYPE, honeypot).trapped).toBe(true);
    expect(parseWebForm('company_url=x&company_url=', FORM_TYPE, honeypot).trapped).toBe(true);
  });

  it('leaves a person who left it empty (or a form without it) alone, and never reads it as a lead field', () => {
    const person = parseWebForm('email=a%40b.co&company_url=&company=Acme', FORM_TYPE, honeypot);
    expect(person.trapped).toBe(false);
    expect(person.violations).toEqual([]);
    expect(JSON.stringify(person.request)).not.toContain('company_url');
    expect(parseWebForm('email=a%40b.co&company_url=%20', FORM_TYPE, honeypot).trapped).toBe(false);
    expect(parseWebForm({ email: 'a@b.co' }, JSON_TYPE, honeypot).trapped).toBe(false);
    // Without a honeypot name nothing is trapped.
    expect(parseWebForm({ email: 'a@b.co', company_url: 'x' }, JSON_TYPE).trapped).toBe(false);
  });
});
