import fc from 'fast-check';
import { findInjection, findSubmissionInjection } from './violations.js';

describe('findInjection', () => {
  it('flags an SMTP/header injection attempt in a name, naming the field and the character', () => {
    expect(findInjection({ 'contact.first_name': 'Jane\r\nBcc: victim@example.com' })).toEqual([
      { field: 'contact.first_name', description: expect.stringContaining('carriage return (CR)') },
    ]);
    expect(findInjection({ 'contact.last_name': 'Doe\nSubject: hi' })[0]?.description).toContain('line feed (LF)');
    expect(findInjection({ 'contact.company': 'Acme\u0000' })[0]?.description).toContain('NUL');
    expect(findInjection({ 'contact.job_title': 'CTO\u001b[31m' })[0]?.description).toContain('U+001B');
  });

  it('flags Unicode line separators and tabs in single-line fields', () => {
    for (const value of ['a\u2028b', 'a\u2029b', 'a\u0085b', 'a\tb', 'a\u007fb']) {
      expect(findInjection({ 'contact.email': value })).toHaveLength(1);
    }
  });

  it('lets multi-line fields hold line breaks and tabs, but not other controls', () => {
    const multiLine = ['interest.message'];
    expect(findInjection({ 'interest.message': 'Hello,\r\n\tplease call me.\n' }, multiLine)).toEqual([]);
    expect(findInjection({ 'interest.message': 'Hello\u0000' }, multiLine)).toHaveLength(1);
  });

  it('flags unpaired surrogates, which cannot be stored or sent as UTF-8', () => {
    expect(findInjection({ 'contact.first_name': 'Jane\ud800' })).toEqual([
      { field: 'contact.first_name', description: expect.stringContaining('malformed Unicode') },
    ]);
  });

  it('accepts ordinary international text and skips empty or missing fields', () => {
    expect(
      findInjection({
        'contact.first_name': 'Zoë',
        'contact.last_name': "O'Brien-Łukasiewicz",
        'contact.company': '株式会社サンプル 👩‍💻',
        'contact.phone': '',
        'contact.job_title': undefined,
      }),
    ).toEqual([]);
  });

  it('never echoes the offending value', () => {
    const [violation] = findInjection({ 'contact.first_name': 'secret\rvalue' });
    expect(violation?.description).not.toContain('secret');
  });

  it('flags any string holding CR or LF in a single-line field', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('\r', '\n', '\r\n'), fc.string(), (before, lineBreak, after) => {
        const violations = findInjection({ 'contact.first_name': before + lineBreak + after });
        expect(violations.map((v) => v.field)).toEqual(['contact.first_name']);
      }),
    );
  });

  it('accepts any string without control characters or unpaired surrogates', () => {
    const clean = fc.string({ unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(s));
    fc.assert(
      fc.property(clean, (value) => {
        expect(findInjection({ 'contact.company': value })).toEqual([]);
      }),
    );
  });
});

describe('findSubmissionInjection', () => {
  it('checks every text field of a submission by its proto path, letting only the message span lines', () => {
    const violations = findSubmissionInjection({
      visitorId: 'v\n1',
      contact: { email: 'a@b.co\r\nRCPT TO:<x@y.z>', firstName: 'Jane' },
      source: { utmCampaign: 'spring\n' },
      interest: { product: 'Pro\n', message: 'line one\nline two' },
      consent: { wordingVersion: 'v1\u0000' },
    });
    expect(violations.map((v) => v.field)).toEqual([
      'visitor_id',
      'contact.email',
      'source.utm_campaign',
      'interest.product',
      'consent.wording_version',
    ]);
  });

  it('accepts a submission with missing groups', () => {
    expect(findSubmissionInjection({ contact: { email: 'a@b.co' } })).toEqual([]);
  });
});
