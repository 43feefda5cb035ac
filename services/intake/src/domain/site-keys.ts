// Site keys: the public keys a website's tracker sends to intake's beacon door. A key is no secret
// (it sits in the page's HTML); what makes it worth something is the list of origins it is bound
// to, checked against the browser's Origin header, which a page cannot forge. A script elsewhere
// cannot use the key from a browser, and intake answers CORS for exactly those origins.

export type SiteKeys = ReadonlyMap<string, ReadonlySet<string>>;

const KEY = /^[A-Za-z0-9_-]{8,100}$/;

/**
 * Reads TRACKER_SITE_KEYS: a JSON object from key to its allowed origins,
 * e.g. {"pk_demo_site_0001": ["http://127.0.0.1:8081", "https://www.example.com"]}.
 * Throws naming the bad entry: a service must not start with a key bound to something that is not an origin.
 */
export function parseSiteKeys(raw: string | undefined): SiteKeys {
  const keys = new Map<string, Set<string>>();
  if (!raw?.trim()) return keys;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('TRACKER_SITE_KEYS: not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('TRACKER_SITE_KEYS: must be an object from site key to a list of origins');
  for (const [key, origins] of Object.entries(parsed)) {
    checkPublicKey('TRACKER_SITE_KEYS', key);
    keys.set(key, readOrigins(`TRACKER_SITE_KEYS.${key}`, origins));
  }
  return keys;
}

/** Throws naming the setting when `key` is not a public key's shape (site keys and form keys alike). */
export function checkPublicKey(setting: string, key: string): void {
  if (!KEY.test(key)) throw new Error(`${setting}: key "${key}" must be 8 to 100 characters of A-Z, a-z, 0-9, "_", "-"`);
}

/** A key's allowed origins, normalised; throws naming `where` when one is not an origin. */
export function readOrigins(where: string, origins: unknown): Set<string> {
  if (!Array.isArray(origins) || origins.length === 0) throw new Error(`${where}: must be a non-empty list of origins`);
  const set = new Set<string>();
  for (const origin of origins as unknown[]) {
    const normalised = typeof origin === 'string' ? normaliseOrigin(origin) : undefined;
    if (!normalised || normalised !== (origin as string).replace(/\/$/, '').toLowerCase()) {
      throw new Error(`${where}: "${String(origin)}" is not an origin (scheme://host[:port], no path)`);
    }
    set.add(normalised);
  }
  return set;
}

/** scheme://host[:port] in lower case, or undefined when it is not an http(s) origin. */
export function normaliseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

export type OriginCheck = { allowed: true; origin: string } | { allowed: false; status: 401 | 403; reason: string };

/** Whether a request carrying this site key may come from this Origin. */
export function checkSiteOrigin(keys: SiteKeys, siteKey: string | undefined, origin: string | undefined): OriginCheck {
  if (!siteKey) return { allowed: false, status: 401, reason: 'site_key: missing' };
  const origins = keys.get(siteKey);
  if (!origins) return { allowed: false, status: 401, reason: 'site_key: unknown site key' };
  // Browsers send Origin on every cross-origin POST and CORS GET; its absence means no browser page.
  if (!origin) return { allowed: false, status: 403, reason: 'Origin: missing; the beacon door answers browsers on the site key\'s origins' };
  const normalised = normaliseOrigin(origin);
  if (!normalised || !origins.has(normalised)) return { allowed: false, status: 403, reason: `Origin: ${normalised ?? 'this origin'} is not allowed for this site key` };
  return { allowed: true, origin: normalised };
}
