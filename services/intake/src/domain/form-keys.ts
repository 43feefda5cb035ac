// Form keys: the public keys a website's web form posts to intake's web form door with
// (`POST /v1/leads?form_key=...`). Like a site key, a form key is no secret (it sits in the page's
// HTML); it is worth something because it is bound to one form and that form's origins, checked
// against the browser's Origin header, which a page cannot forge. It replaced a general bearer
// token with leads:submit in the URL, which anyone could read from the page and use from anywhere
// for any form.
import { checkPublicKey, normaliseOrigin, readOrigins } from './site-keys.js';

export interface FormKey {
  /** The one form (source.form_id) the key submits. */
  form: string;
  origins: ReadonlySet<string>;
}

export type FormKeys = ReadonlyMap<string, FormKey>;

const FORM_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Reads WEB_FORM_KEYS: a JSON object from key to its form and allowed origins,
 * e.g. {"fk_contact_sales_www": {"form": "contact-sales", "origins": ["https://www.example.com"]}}.
 * Throws naming the bad entry.
 */
export function parseFormKeys(raw: string | undefined): FormKeys {
  const keys = new Map<string, FormKey>();
  if (!raw?.trim()) return keys;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('WEB_FORM_KEYS: not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('WEB_FORM_KEYS: must be an object from form key to {"form": ..., "origins": [...]}');
  for (const [key, entry] of Object.entries(parsed)) {
    checkPublicKey('WEB_FORM_KEYS', key);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`WEB_FORM_KEYS.${key}: must be {"form": ..., "origins": [...]}`);
    const { form, origins } = entry as { form?: unknown; origins?: unknown };
    if (typeof form !== 'string' || !FORM_ID.test(form)) throw new Error(`WEB_FORM_KEYS.${key}.form: must be the form's id (1 to 100 characters of A-Z, a-z, 0-9, "_", ".", ":", "-")`);
    keys.set(key, { form, origins: readOrigins(`WEB_FORM_KEYS.${key}.origins`, origins) });
  }
  return keys;
}

export type FormKeyCheck = { allowed: true; form: string; origin: string } | { allowed: false; status: 401 | 403; reason: string };

/**
 * Whether a submission with this form key may come from this Origin for this form. `formId` is the
 * form the submission names (source.form_id), empty when it names none: it then gets the key's form.
 */
export function checkFormKey(keys: FormKeys, formKey: string | undefined, origin: string | undefined, formId: string): FormKeyCheck {
  if (!formKey) return { allowed: false, status: 401, reason: 'form_key: missing' };
  const key = keys.get(formKey);
  if (!key) return { allowed: false, status: 401, reason: 'form_key: unknown form key' };
  // Browsers send Origin with every form POST; without it (or "null") the request is no page's.
  if (!origin) return { allowed: false, status: 403, reason: "Origin: missing; a form key answers browsers on its form's origins" };
  const normalised = normaliseOrigin(origin);
  if (!normalised || !key.origins.has(normalised)) return { allowed: false, status: 403, reason: `Origin: ${normalised ?? 'this origin'} is not allowed for this form key` };
  if (formId !== '' && formId !== key.form) return { allowed: false, status: 403, reason: 'source.form_id: this form key is for another form' };
  return { allowed: true, form: key.form, origin: normalised };
}
