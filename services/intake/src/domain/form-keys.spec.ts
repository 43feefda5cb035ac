import { checkFormKey, parseFormKeys } from './form-keys.js';

describe('form keys', () => {
  const keys = parseFormKeys('{"fk_contact_sales_www": {"form": "contact-sales", "origins": ["https://www.Example.com/", "https://example.com"]}}');

  it('binds a key to one form and its origins, normalised', () => {
    expect(keys.get('fk_contact_sales_www')).toEqual({ form: 'contact-sales', origins: new Set(['https://www.example.com', 'https://example.com']) });
    expect(parseFormKeys(undefined).size).toBe(0);
  });

  it('refuses a configuration without a form, with a path in an origin or a bad key, naming it', () => {
    expect(() => parseFormKeys('{"fk_contact_sales_www": {"origins": ["https://www.example.com"]}}')).toThrow(/fk_contact_sales_www\.form/);
    expect(() => parseFormKeys('{"fk_contact_sales_www": {"form": "contact sales", "origins": ["https://www.example.com"]}}')).toThrow(/\.form/);
    expect(() => parseFormKeys('{"fk_contact_sales_www": {"form": "contact-sales", "origins": ["https://www.example.com/contact"]}}')).toThrow(/origins.*not an origin/);
    expect(() => parseFormKeys('{"fk_contact_sales_www": {"form": "contact-sales", "origins": []}}')).toThrow(/non-empty list/);
    expect(() => parseFormKeys('{"fk_contact_sales_www": ["https://www.example.com"]}')).toThrow(/must be \{/);
    expect(() => parseFormKeys('{"short": {"form": "contact-sales", "origins": ["https://www.example.com"]}}')).toThrow(/key "short"/);
    expect(() => parseFormKeys('not json')).toThrow(/not JSON/);
  });

  it("admits its form from its origins, and gives a submission that names no form the key's form", () => {
    expect(checkFormKey(keys, 'fk_contact_sales_www', 'https://WWW.example.com', '')).toEqual({ allowed: true, form: 'contact-sales', origin: 'https://www.example.com' });
    expect(checkFormKey(keys, 'fk_contact_sales_www', 'https://example.com', 'contact-sales')).toMatchObject({ allowed: true, form: 'contact-sales' });
  });

  it('refuses another form, another origin, no origin and an unknown key', () => {
    expect(checkFormKey(keys, 'fk_contact_sales_www', 'https://www.example.com', 'webinar-signup')).toMatchObject({ allowed: false, status: 403, reason: expect.stringContaining('another form') });
    expect(checkFormKey(keys, 'fk_contact_sales_www', 'https://www.example.com.evil.test', '')).toMatchObject({ allowed: false, status: 403, reason: expect.stringContaining('Origin') });
    expect(checkFormKey(keys, 'fk_contact_sales_www', 'null', '')).toMatchObject({ allowed: false, status: 403 });
    expect(checkFormKey(keys, 'fk_contact_sales_www', undefined, '')).toMatchObject({ allowed: false, status: 403 });
    expect(checkFormKey(keys, 'fk_nobody_knows_this', 'https://www.example.com', '')).toMatchObject({ allowed: false, status: 401, reason: expect.stringContaining('form_key') });
    expect(checkFormKey(keys, undefined, 'https://www.example.com', '')).toMatchObject({ allowed: false, status: 401 });
  });
});
