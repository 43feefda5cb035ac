import { emailKindOf, mayEmail, type ContactEmailState } from './suppression.js';

const contact = (over: Partial<ContactEmailState> = {}): ContactEmailState => ({ emailMarketingConsent: true, unsubscribed: false, bounced: false, ...over });

describe('mayEmail', () => {
  // Every combination of the three flags, spelt out: consent, unsubscribed, bounced -> marketing, transactional.
  const cases: Array<[ContactEmailState, boolean, boolean]> = [
    [{ emailMarketingConsent: true, unsubscribed: false, bounced: false }, true, true],
    [{ emailMarketingConsent: true, unsubscribed: false, bounced: true }, false, false],
    [{ emailMarketingConsent: true, unsubscribed: true, bounced: false }, false, true],
    [{ emailMarketingConsent: true, unsubscribed: true, bounced: true }, false, false],
    [{ emailMarketingConsent: false, unsubscribed: false, bounced: false }, false, true],
    [{ emailMarketingConsent: false, unsubscribed: false, bounced: true }, false, false],
    [{ emailMarketingConsent: false, unsubscribed: true, bounced: false }, false, true],
    [{ emailMarketingConsent: false, unsubscribed: true, bounced: true }, false, false],
  ];

  it.each(cases)('for %j allows marketing=%p and transactional=%p', (state, marketing, transactional) => {
    expect(mayEmail('MARKETING', state).allowed).toBe(marketing);
    expect(mayEmail('TRANSACTIONAL', state).allowed).toBe(transactional);
  });

  it('explains each refusal of marketing email', () => {
    expect(mayEmail('MARKETING', contact({ bounced: true })).reason).toMatch(/bounced/);
    expect(mayEmail('MARKETING', contact({ unsubscribed: true })).reason).toMatch(/unsubscribed/);
    expect(mayEmail('MARKETING', contact({ emailMarketingConsent: false })).reason).toMatch(/No email marketing consent/);
  });

  it('names the bounce first when several reasons apply', () => {
    expect(mayEmail('MARKETING', contact({ bounced: true, unsubscribed: true, emailMarketingConsent: false })).reason).toMatch(/^The address bounced/);
  });

  it('sends the transactional confirmation to someone who unsubscribed from marketing, and says why', () => {
    const decision = mayEmail('TRANSACTIONAL', contact({ unsubscribed: true, emailMarketingConsent: false }));
    expect(decision).toEqual({ allowed: true, reason: expect.stringMatching(/their own request/) });
  });

  it('never sends even a transactional confirmation to a bounced address', () => {
    expect(mayEmail('TRANSACTIONAL', contact({ bounced: true }))).toEqual({ allowed: false, reason: expect.stringMatching(/bounced/) });
  });
});

describe('emailKindOf', () => {
  it('treats only transactional tracks as transactional; sales assist follows the marketing rules', () => {
    expect(emailKindOf('TRANSACTIONAL')).toBe('TRANSACTIONAL');
    expect(emailKindOf('MARKETING')).toBe('MARKETING');
    expect(emailKindOf('SALES_ASSIST')).toBe('MARKETING');
  });
});
