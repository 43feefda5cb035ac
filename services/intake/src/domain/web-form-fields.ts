import type { FieldNotice, FieldViolation } from './violations.js';

/** The message of SubmitLeadRequest a field belongs to; undefined for the request's own fields. */
export type FieldGroup = 'contact' | 'source' | 'interest' | 'consent';

/**
 * How a field's value is read. `text` takes strings only; `digits` also takes a whole number, for
 * fields that form builders and scripts send as numbers (a phone, a numeric form id); `count` is a
 * whole number that may arrive as a numeric string; `flag` is a checkbox; `instant` an ISO 8601 time.
 */
export type FieldKind = 'text' | 'digits' | 'count' | 'flag' | 'instant';

export interface FormField {
  group: FieldGroup | undefined;
  /** The proto field name: the name inside a nested group and the path in violations. */
  snake: string;
  /** The JSON (camelCase) name. */
  camel: string;
  /** Names accepted inside a nested group (`{"contact": {"first_name": ...}}`): snake and camel. */
  nestedNames: readonly string[];
  kind: FieldKind;
  /** Names accepted at the top level of the body, for flat forms. */
  flatNames: readonly string[];
  /** "contact.first_name": how violations name the field. */
  path: string;
}

const camelCase = (snake: string) => snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

function field(group: FieldGroup | undefined, snake: string, kind: FieldKind = 'text', extra: string[] = []): FormField {
  const camel = camelCase(snake);
  // Consent fields are prefixed when flat: a bare "given_at" or "email_marketing" would be ambiguous.
  const flatSnake = group === 'consent' ? `consent_${snake}` : snake;
  const qualified = group === undefined ? [] : [snake, camel].flatMap((name) => [`${group}.${name}`, `${group}[${name}]`]);
  return {
    group,
    snake,
    camel,
    nestedNames: [...new Set([snake, camel])],
    kind,
    flatNames: [...new Set([flatSnake, camelCase(flatSnake), ...qualified, ...extra])],
    path: group === undefined ? snake : `${group}.${snake}`,
  };
}

/** The allowlist: nothing outside it is read from a body, so nothing outside it can be stored. */
export const FORM_FIELDS: readonly FormField[] = [
  field(undefined, 'idempotency_key'),
  field(undefined, 'visitor_id'),
  field('contact', 'email'),
  field('contact', 'first_name'),
  field('contact', 'last_name'),
  field('contact', 'phone', 'digits', ['phone_number', 'phoneNumber']),
  field('contact', 'company', 'text', ['company_name', 'companyName']),
  field('contact', 'job_title'),
  field('contact', 'country'),
  field('contact', 'company_size', 'count'),
  field('contact', 'industry'),
  field('source', 'form_id', 'digits'),
  field('source', 'page_url'),
  field('source', 'utm_source'),
  field('source', 'utm_medium'),
  field('source', 'utm_campaign'),
  field('source', 'utm_term'),
  field('source', 'utm_content'),
  field('source', 'referrer'),
  field('source', 'campaign_id'),
  field('interest', 'product'),
  field('interest', 'message'),
  field('consent', 'email_marketing', 'flag'),
  field('consent', 'wording_version'),
  field('consent', 'given_at', 'instant'),
];

export const MAX_COMPANY_SIZE = 10_000_000;
const CHECKED = new Set(['on', 'true', '1', 'yes']);
const UNCHECKED = new Set(['', 'off', 'false', '0', 'no']);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

export type FieldValue = string | number | boolean | Date | undefined;
/**
 * A value of the wrong JSON type (an object or a list where a scalar belongs, a number where text
 * belongs) is refused: that is a broken or hostile client. A value of the right type that cannot
 * be read (a company size "51-200", a consent time "yesterday") is set aside with a notice: that
 * is a person, and an optional field never costs a lead.
 */
export type Coerced = { ok: true; value: FieldValue; notice?: FieldNotice } | { ok: false; violation: FieldViolation };

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A whole number, from a number or a numeric string ("" is 0, unknown); NaN for anything else. */
function readCount(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const text = value.trim();
  if (text === '') return 0;
  return /^\d{1,9}$/.test(text) ? Number(text) : NaN;
}

/** Reads one present value as its field's kind; anything else is a violation naming the field. */
export function coerce(spec: FormField, value: unknown): Coerced {
  const reject = (expected: string): Coerced => ({
    ok: false,
    violation: { field: spec.path, description: `must be ${expected}, not ${kindOf(value)}` },
  });
  switch (spec.kind) {
    case 'text':
      return typeof value === 'string' ? { ok: true, value } : reject('a string');
    case 'digits':
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { ok: true, value: String(value) };
      return reject('a string or a whole number');
    case 'count': {
      if (typeof value !== 'number' && typeof value !== 'string') return reject('a whole number');
      const count = readCount(value);
      if (count <= MAX_COMPANY_SIZE) return { ok: true, value: count };
      return { ok: true, value: 0, notice: { field: spec.path, description: `is not a whole number from 0 to ${MAX_COMPANY_SIZE}; left unknown` } };
    }
    case 'flag': {
      if (typeof value === 'boolean') return { ok: true, value };
      if (typeof value !== 'string' && typeof value !== 'number') return reject('a yes/no value');
      const text = String(value).trim().toLowerCase();
      if (CHECKED.has(text)) return { ok: true, value: true };
      if (UNCHECKED.has(text)) return { ok: true, value: false };
      // Consent that cannot be read is no consent: nothing is sent on a guess.
      return { ok: true, value: false, notice: { field: spec.path, description: 'is not a yes/no value (true, on, yes, 1 or false, off, no, 0); read as no' } };
    }
    case 'instant': {
      if (value === '') return { ok: true, value: undefined };
      if (typeof value !== 'string') return reject('an ISO 8601 date-time with a time zone');
      const time = ISO_INSTANT.test(value) ? new Date(value) : undefined;
      if (time !== undefined && !Number.isNaN(time.getTime())) return { ok: true, value: time };
      return { ok: true, value: undefined, notice: { field: spec.path, description: 'is not an ISO 8601 date-time with a time zone; left empty' } };
    }
  }
}
