import { checkTemplateSyntax, renderEmail, unsubscribeToken, verifyUnsubscribeToken, type EmailTemplate } from './templates.js';

const template: EmailTemplate = {
  subject: 'Hello{{#if firstName}} {{firstName}}{{/if}} from {{company}}',
  html: '<p>Hi {{firstName}} {{lastName}} ({{company}}), about {{product}} with {{ownerName}}.</p><a href="{{unsubscribeUrl}}">Unsubscribe</a>',
  text: 'Hi {{firstName}} {{lastName}} ({{company}}), about {{product}} with {{ownerName}}.\nUnsubscribe: {{unsubscribeUrl}}',
};
const unsubscribeUrl = 'https://mail.example.com/unsubscribe?token=abc.def&x=1';

describe('renderEmail', () => {
  it("fills in the lead's data in subject, html and text", () => {
    const email = renderEmail(template, { firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines', product: 'analytics', ownerName: 'Grace', unsubscribeUrl });
    expect(email.subject).toBe('Hello Ada from Analytical Engines');
    expect(email.html).toBe(
      // Handlebars also escapes '=' as &#x3D;; a browser decodes both entities back into the same link.
      '<p>Hi Ada Lovelace (Analytical Engines), about analytics with Grace.</p><a href="https://mail.example.com/unsubscribe?token&#x3D;abc.def&amp;x&#x3D;1">Unsubscribe</a>',
    );
    expect(email.text).toBe('Hi Ada Lovelace (Analytical Engines), about analytics with Grace.\nUnsubscribe: https://mail.example.com/unsubscribe?token=abc.def&x=1');
  });

  it('always adds the one-click List-Unsubscribe headers', () => {
    expect(renderEmail(template, { unsubscribeUrl }).headers).toEqual({
      'List-Unsubscribe': '<https://mail.example.com/unsubscribe?token=abc.def&x=1>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('escapes hostile markup in the html part and keeps it literal in the text part', () => {
    const email = renderEmail(template, { firstName: '<script>alert(1)</script>', company: 'O\'Brien & "Sons"', unsubscribeUrl });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.html).toContain('O&#x27;Brien &amp; &quot;Sons&quot;');
    expect(email.text).toContain('Hi <script>alert(1)</script>');
    expect(email.text).toContain('(O\'Brien & "Sons")');
    expect(email.subject).toBe('Hello <script>alert(1)</script> from O\'Brien & "Sons"');
  });

  it('does not evaluate template syntax that arrives inside lead data', () => {
    const email = renderEmail(template, { firstName: '{{unsubscribeUrl}}', company: '{{#each this}}x{{/each}}', unsubscribeUrl });
    expect(email.text).toContain('Hi {{unsubscribeUrl}}');
    expect(email.subject).toBe('Hello {{unsubscribeUrl}} from {{#each this}}x{{/each}}');
  });

  it.each(['Ada\r\nBcc: victim@example.com', 'Ada\nBcc: victim@example.com', 'Ada\r', 'Ada\n'])('refuses a subject that would carry a line break from the name %j', (firstName) => {
    expect(() => renderEmail(template, { firstName, unsubscribeUrl })).toThrow(/subject: would contain a line break/);
  });

  it('keeps a name with a line break as plain data in the body parts when the subject does not use it', () => {
    const plainSubject = { ...template, subject: 'A note for you' };
    const email = renderEmail(plainSubject, { firstName: 'Ada\r\nBcc: victim@example.com', unsubscribeUrl });
    expect(email.subject).toBe('A note for you');
    expect(email.text).toContain('Hi Ada\r\nBcc: victim@example.com');
    expect(Object.keys(email.headers)).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
  });

  it('renders missing optional fields as nothing', () => {
    const email = renderEmail(template, { unsubscribeUrl });
    expect(email.subject).toBe('Hello from');
    expect(email.text.split('\n')[0]).toBe('Hi   (), about  with .');
  });

  it('passes only the known fields to the template', () => {
    const sneaky = { unsubscribeUrl, secret: 'hunter2' } as unknown as Parameters<typeof renderEmail>[1];
    expect(renderEmail({ ...template, text: '[{{secret}}]' }, sneaky).text).toBe('[]');
  });

  it.each([
    ['not a url', /unsubscribeUrl: must be an absolute URL/],
    ['/relative/path', /unsubscribeUrl: must be an absolute URL/],
    ['javascript:alert(1)', /unsubscribeUrl: must be http\(s\)/],
    ['https://mail.example.com/u\r\nBcc: x@example.com', /unsubscribeUrl: must not contain a line break/],
  ])('refuses the unsubscribe URL %j', (url, message) => {
    expect(() => renderEmail(template, { unsubscribeUrl: url })).toThrow(message);
  });

  it('percent-encodes an unsubscribe URL so it cannot break out of the header brackets', () => {
    const email = renderEmail(template, { unsubscribeUrl: 'https://mail.example.com/u?t=a>b<c d' });
    expect(email.headers['List-Unsubscribe']).toBe('<https://mail.example.com/u?t=a%3Eb%3Cc%20d>');
  });

  it('refuses helpers that are not built in', () => {
    expect(() => renderEmail({ ...template, text: 'Hi {{shout firstName}}' }, { firstName: 'Ada', unsubscribeUrl })).toThrow(/unknown helper shout/);
  });
});

describe('checkTemplateSyntax', () => {
  it('accepts valid templates and names the part with a syntax error', () => {
    expect(() => checkTemplateSyntax(template)).not.toThrow();
    expect(() => checkTemplateSyntax({ ...template, html: '<p>{{#if firstName}}unclosed</p>' })).toThrow(/^html: /);
  });
});

describe('unsubscribe tokens', () => {
  const secret = 'a-long-enough-test-secret-0123456789';
  const leadId = '0b8f2f9e-3c1a-4c7e-9d3e-5f6a7b8c9d0e';

  it('round-trips the lead id and is URL-safe', () => {
    const token = unsubscribeToken(leadId, secret);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyUnsubscribeToken(token, secret)).toBe(leadId);
  });

  it('is the same token every time for the same lead and differs between leads', () => {
    expect(unsubscribeToken(leadId, secret)).toBe(unsubscribeToken(leadId, secret));
    expect(unsubscribeToken('other-lead', secret)).not.toBe(unsubscribeToken(leadId, secret));
  });

  it("cannot be moved to another lead: the signature of one lead does not verify for another", () => {
    const [, signature] = unsubscribeToken(leadId, secret).split('.');
    const forged = `${Buffer.from('victim-lead').toString('base64url')}.${signature}`;
    expect(verifyUnsubscribeToken(forged, secret)).toBeUndefined();
  });

  it('does not verify with another secret', () => {
    expect(verifyUnsubscribeToken(unsubscribeToken(leadId, secret), 'another-secret-of-enough-length')).toBeUndefined();
  });

  it('rejects tampered and malformed tokens', () => {
    const token = unsubscribeToken(leadId, secret);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const bad of ['', '.', 'abc', `${token}.extra`, flipped, token.replace('.', '.x'), `${token}=`, token.replace(/^./, '*')]) {
      expect(verifyUnsubscribeToken(bad, secret)).toBeUndefined();
    }
  });

  it('refuses a short secret and an empty lead id', () => {
    expect(() => unsubscribeToken(leadId, 'short')).toThrow(/secret: must be at least 16 bytes/);
    expect(() => unsubscribeToken('', secret)).toThrow(/leadId: must not be empty/);
  });
});
