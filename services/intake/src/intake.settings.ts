/** One limit counted in intake's store: at most `max` per window of `windowMs`, on every replica together. */
export interface WindowLimit {
  max: number;
  windowMs: number;
}

/** intake's own settings, read once at start. */
export interface IntakeSettings {
  /**
   * Keys the hash that erasure keeps of an erased address (ERASURE_HASH_KEY). Required in every
   * environment, as nurture's unsubscribe secret is: with a public key anyone could hash a
   * dictionary of addresses and learn which ones were erased. The rate limits name a client address
   * and a recipient by the same keyed hash.
   */
  erasureHashKey: string;
  /**
   * The browser doors' limits. The beacon door counts activities per minute; the web form door
   * counts submissions made with a public key (a form key, or the retired token in the URL) per
   * client address, per key and per recipient (the normalised email: the person the company's
   * domain would write to). A server calling with a bearer token in its header is one address for
   * many people and is limited like a gRPC caller.
   */
  limits: {
    beaconVisitor: WindowLimit;
    beaconAddress: WindowLimit;
    formAddress: WindowLimit;
    formKey: WindowLimit;
    formRecipient: WindowLimit;
  };
  /** Take the client address from X-Forwarded-For: only behind a proxy that overwrites it. */
  trustProxy: boolean;
  /**
   * The hidden form field humans leave empty (WEB_FORM_HONEYPOT_FIELD). A form must not have a
   * real field of this name: a filled one is answered like a success and dropped.
   */
  honeypotField: string;
  /**
   * Migration: accept the old general token as `?key=` in the web form's URL
   * (WEB_FORM_ACCEPT_URL_KEY=true) until every form has its own form key. Off by default.
   */
  acceptQueryToken: boolean;
}

export const INTAKE_SETTINGS = Symbol('INTAKE_SETTINGS');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function loadIntakeSettings(env: NodeJS.ProcessEnv = process.env): IntakeSettings {
  const erasureHashKey = env.ERASURE_HASH_KEY ?? '';
  if (Buffer.byteLength(erasureHashKey) < 16) throw new Error('ERASURE_HASH_KEY must be set to at least 16 bytes (it keys the hash erasure keeps of an erased address)');
  const limit = (name: string, fallback: number, windowMs: number): WindowLimit => {
    const raw = env[name];
    const max = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(max) || max < 1) throw new Error(`${name} must be a whole number of at least 1`);
    return { max, windowMs };
  };
  const honeypotField = env.WEB_FORM_HONEYPOT_FIELD ?? 'company_url';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(honeypotField)) throw new Error('WEB_FORM_HONEYPOT_FIELD must be a form field name (letters, digits, "_")');
  return {
    erasureHashKey,
    limits: {
      beaconVisitor: limit('BEACON_VISITOR_LIMIT_PER_MINUTE', 300, MINUTE),
      beaconAddress: limit('BEACON_ADDRESS_LIMIT_PER_MINUTE', 6000, MINUTE),
      formAddress: limit('WEB_FORM_ADDRESS_LIMIT_PER_HOUR', 20, HOUR),
      formKey: limit('WEB_FORM_KEY_LIMIT_PER_MINUTE', 300, MINUTE),
      formRecipient: limit('WEB_FORM_RECIPIENT_LIMIT_PER_DAY', 5, DAY),
    },
    // BEACON_TRUST_PROXY is the name it had when only the beacon door read it.
    trustProxy: (env.HTTP_TRUST_PROXY ?? env.BEACON_TRUST_PROXY) === 'true',
    honeypotField,
    acceptQueryToken: env.WEB_FORM_ACCEPT_URL_KEY === 'true',
  };
}
