import { createHmac } from 'node:crypto';
import { loadIntakeSettings } from './intake.settings.js';

describe('loadIntakeSettings', () => {
  it('requires ERASURE_HASH_KEY: there is no public fallback that would let anyone confirm an erased address', () => {
    expect(() => loadIntakeSettings({})).toThrow(/ERASURE_HASH_KEY/);
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: '' })).toThrow(/ERASURE_HASH_KEY/);
    expect(() => loadIntakeSettings({ ERASURE_HASH_KEY: 'short' })).toThrow(/at least 16 bytes/);
  });

  it('takes the key from the environment', () => {
    const key = 'a-key-of-enough-bytes-for-hmac';
    expect(loadIntakeSettings({ ERASURE_HASH_KEY: key })).toEqual({ erasureHashKey: key });
    // The key the old fallback used must never be what an unset variable quietly becomes.
    expect(createHmac('sha256', loadIntakeSettings({ ERASURE_HASH_KEY: key }).erasureHashKey).digest('hex')).not.toBe(createHmac('sha256', 'leadmesh-erasure').digest('hex'));
  });
});
