import { createHmac } from 'node:crypto';
import { loadIntakeSettings } from './intake.settings.js';

const key = 'a-key-of-enough-bytes-for-hmac';

describe('loadIntakeSettings', () => {
  it('requires ERASURE_HASH_KEY: there is no public fallback that would let anyone confirm an erased address', () => {
    expect(() => loadIntakeSettings({})).toThrow(/ERASURE_HASH_KEY/);
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: '' })).toThrow(/ERASURE_HASH_KEY/);
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: 'short' })).toThrow(/at least 16 bytes/);
  });

  it('takes the key from the environment', () => {
    expect(loadIntakeSettings({ ERASURE_HASH_KEY: key })).toMatchObject({ erasureHashKey: key });
    // The key the old fallback used must never be what an unset variable quietly becomes.
    expect(createHmac('sha256', loadIntakeSettings({ ERASURE_HASH_KEY: key }).erasureHashKey).digest('hex')).not.toBe(createHmac('sha256', 'leadmesh-erasure').digest('hex'));
  });

  it('reads the browser doors\' limits, each with its own window, and refuses a limit that is not a whole number', () => {
    const settings = loadIntakeSettings({ ERASURE_HASH_KEY: key, WEB_FORM_RECIPIENT_LIMIT_PER_DAY: '3', BEACON_VISITOR_LIMIT_PER_MINUTE: '20' });
    expect(settings.limits).toEqual({
      beaconVisitor: { max: 20, windowMs: 60_000 },
      beaconAddress: { max: 6000, windowMs: 60_000 },
      formAddress: { max: 20, windowMs: 3_600_000 },
      formKey: { max: 300, windowMs: 60_000 },
      formRecipient: { max: 3, windowMs: 86_400_000 },
    });
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: key, WEB_FORM_ADDRESS_LIMIT_PER_HOUR: 'lots' })).toThrow(/WEB_FORM_ADDRESS_LIMIT_PER_HOUR/);
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: key, WEB_FORM_KEY_LIMIT_PER_MINUTE: '0' })).toThrow(/WEB_FORM_KEY_LIMIT_PER_MINUTE/);
  });

  it('keeps the retired ?key= token off unless a migration turns it on, and reads the old proxy setting\'s name', () => {
    const defaults = loadIntakeSettings({ ERASURE_HASH_KEY: key });
    expect(defaults).toMatchObject({ acceptQueryToken: false, trustProxy: false, honeypotField: 'company_url' });
    expect(loadIntakeSettings({ ERASURE_HASH_KEY: key, WEB_FORM_ACCEPT_URL_KEY: 'true', BEACON_TRUST_PROXY: 'true' })).toMatchObject({ acceptQueryToken: true, trustProxy: true });
    expect(loadIntakeSettings({ ERASURE_HASH_KEY: key, HTTP_TRUST_PROXY: 'false', BEACON_TRUST_PROXY: 'true' }).trustProxy).toBe(false);
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: key, WEB_FORM_HONEYPOT_FIELD: 'a b' })).toThrow(/WEB_FORM_HONEYPOT_FIELD/);
  });
});
