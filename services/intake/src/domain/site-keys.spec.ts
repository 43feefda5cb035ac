import { checkSiteOrigin, parseSiteKeys } from './site-keys.js';

describe('site keys', () => {
  const keys = parseSiteKeys('{"pk_demo_site_0001": ["http://127.0.0.1:8081", "https://www.Example.com/"]}');

  it('binds a key to its origins, normalised', () => {
    expect([...keys.get('pk_demo_site_0001')!]).toEqual(['http://127.0.0.1:8081', 'https://www.example.com']);
    expect(parseSiteKeys(undefined).size).toBe(0);
  });

  it('refuses a configuration with a path, a non-http scheme or a bad key, naming it', () => {
    expect(() => parseSiteKeys('{"pk_demo_site_0001": ["http://127.0.0.1:8081/pricing"]}')).toThrow(/pk_demo_site_0001.*not an origin/);
    expect(() => parseSiteKeys('{"pk_demo_site_0001": ["file:///etc"]}')).toThrow(/not an origin/);
    expect(() => parseSiteKeys('{"short": ["http://a.example"]}')).toThrow(/key "short"/);
    expect(() => parseSiteKeys('{"pk_demo_site_0001": []}')).toThrow(/non-empty list/);
    expect(() => parseSiteKeys('[1]')).toThrow(/object/);
  });

  it('admits exactly the bound origins', () => {
    expect(checkSiteOrigin(keys, 'pk_demo_site_0001', 'http://127.0.0.1:8081')).toEqual({ allowed: true, origin: 'http://127.0.0.1:8081' });
    expect(checkSiteOrigin(keys, 'pk_demo_site_0001', 'https://WWW.example.com')).toEqual({ allowed: true, origin: 'https://www.example.com' });
    expect(checkSiteOrigin(keys, 'pk_demo_site_0001', 'http://localhost:8081')).toMatchObject({ allowed: false, status: 403, reason: expect.stringContaining('Origin') });
    expect(checkSiteOrigin(keys, 'pk_demo_site_0001', 'https://www.example.com.evil.test')).toMatchObject({ allowed: false, status: 403 });
    expect(checkSiteOrigin(keys, 'pk_demo_site_0001', undefined)).toMatchObject({ allowed: false, status: 403 });
    expect(checkSiteOrigin(keys, 'pk_other_site_0001', 'http://127.0.0.1:8081')).toMatchObject({ allowed: false, status: 401, reason: expect.stringContaining('site_key') });
    expect(checkSiteOrigin(keys, undefined, 'http://127.0.0.1:8081')).toMatchObject({ allowed: false, status: 401 });
  });
});
