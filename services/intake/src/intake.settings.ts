/** intake's own settings, read once at start. */
export interface IntakeSettings {
  /**
   * Keys the hash that erasure keeps of an erased address (ERASURE_HASH_KEY). Required in every
   * environment, as nurture's unsubscribe secret is: with a public key anyone could hash a
   * dictionary of addresses and learn which ones were erased.
   */
  erasureHashKey: string;
}

export const INTAKE_SETTINGS = Symbol('INTAKE_SETTINGS');

export function loadIntakeSettings(env: NodeJS.ProcessEnv = process.env): IntakeSettings {
  const erasureHashKey = env.ERASURE_HASH_KEY ?? '';
  if (Buffer.byteLength(erasureHashKey) < 16) throw new Error('ERASURE_HASH_KEY must be set to at least 16 bytes (it keys the hash erasure keeps of an erased address)');
  return { erasureHashKey };
}
