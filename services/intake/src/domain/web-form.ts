import { coerce, FORM_FIELDS, type FieldValue, type FormField } from './web-form-fields.js';
import { findDuplicateKey } from './json-keys.js';
import { findSubmissionInjection, type FieldNotice, type FieldViolation } from './violations.js';
import { isValidVisitorId } from './visitor.js';

/**
 * A web-form submission in the shape of SubmitLeadRequest's JSON init (camelCase), so the HTTP door
 * hands the gRPC path the same request a team's client would send. `givenAt` is a Date: convert it
 * with timestampFromDate before building the message.
 */
export interface WebFormSubmission {
  idempotencyKey?: string;
  visitorId?: string;
  contact: {
    email: string;
    firstName: string;
    lastName: string;
    phone: string;
    company: string;
    jobTitle: string;
    country: string;
    companySize: number;
    industry: string;
  };
  source: {
    formId: string;
    pageUrl: string;
    utmSource: string;
    utmMedium: string;
    utmCampaign: string;
    utmTerm: string;
    utmContent: string;
    referrer: string;
    campaignId: string;
  };
  interest: { product: string; message: string };
  consent: { emailMarketing: boolean; wordingVersion: string; givenAt?: Date };
}

export interface ParsedWebForm {
  /** Only meaningful when `violations` is empty; fields in violation are left at their defaults. */
  request: WebFormSubmission;
  /** Why the submission is refused: broken or hostile input, or no usable email. */
  violations: FieldViolation[];
  /** Optional fields set aside (left empty) because their value could not be read; the lead is kept. */
  notices: FieldNotice[];
  /** The honeypot field was filled: a bot, whatever else the body holds. */
  trapped: boolean;
}

/**
 * Whether the body fills the honeypot: a field the form hides from people (off screen, out of the
 * tab order, no autofill), so a person leaves it empty and a bot that fills every input does not.
 * Read at the top level only, where an HTML form puts it.
 */
function honeypotFilled(body: Body, name: string): boolean {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.some((v) => typeof v !== 'string' || v.trim() !== '');
  return true;
}

/** Objects nested deeper than this are refused before any field is read. */
export const MAX_BODY_DEPTH = 3;
// Keys that reach Object.prototype when copied naively. Fields are only ever read from the
// allowlist with Object.hasOwn, so these can never be read; the set keeps them out of the one
// record built from arbitrary keys (a url-encoded body) as well.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Body = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether anything in `value` is nested deeper than `limit`; looks no deeper than limit + 1. */
function deeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => deeperThan(child, limit - 1));
}

function formRecord(text: string): Body {
  const record: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of new URLSearchParams(text)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    const seen = record[key];
    // A repeated name becomes a list, which every field refuses: two emails are not one lead.
    record[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return record;
}

/** `form`: the body was urlencoded, where a list can only be a name given more than once. */
type Decoded = { ok: true; body: Body; form: boolean } | { ok: false; violation: FieldViolation };

function decodeBody(body: unknown, contentType: string): Decoded {
  const fail = (field: string, description: string): Decoded => ({ ok: false, violation: { field, description } });
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const json = mediaType === 'application/json';
  if (!json && mediaType !== 'application/x-www-form-urlencoded') {
    return fail('content_type', 'must be application/json or application/x-www-form-urlencoded');
  }
  let value = body;
  // The JSON text as sent, for the duplicate-key check that the parsed value can no longer show.
  let jsonText: string | undefined;
  if (value instanceof Uint8Array) {
    try {
      value = new TextDecoder('utf-8', { fatal: true }).decode(value);
    } catch {
      return fail('body', 'is not valid UTF-8');
    }
  }
  // A string is the raw body; anything else was already parsed by the HTTP layer.
  if (typeof value === 'string') {
    if (!json) value = formRecord(value);
    else {
      try {
        jsonText = value;
        value = JSON.parse(value) as unknown;
      } catch {
        return fail('body', 'is not valid JSON');
      }
    }
  }
  if (!isRecord(value)) return fail('body', 'must be an object of form fields');
  if (deeperThan(value, MAX_BODY_DEPTH)) return fail('body', `is nested deeper than ${MAX_BODY_DEPTH} levels`);
  // Refused like a repeated name in a urlencoded form: keeping the last of two emails is a guess.
  const duplicate = jsonText === undefined ? undefined : findDuplicateKey(jsonText);
  if (duplicate !== undefined) return fail(fieldAt(duplicate), 'is given more than once in the JSON body');
  return { ok: true, body: value, form: !json };
}

/** The proto path of the allowlisted field a JSON path names ("contact.email"), or the path as sent. */
function fieldAt(path: readonly string[]): string {
  const [first, second] = path;
  const spec =
    path.length === 1
      ? FORM_FIELDS.find((field) => field.flatNames.includes(first!))
      : path.length === 2
        ? FORM_FIELDS.find((field) => field.group === first && field.nestedNames.includes(second!))
        : undefined;
  return spec?.path ?? path.join('.');
}

/** Every place the body gives a value for `spec`, with the name it was given under. */
function findValues(body: Body, spec: FormField): { name: string; value: unknown }[] {
  const found: { name: string; value: unknown }[] = [];
  const collect = (record: Body, names: readonly string[], prefix: string) => {
    for (const name of names) {
      const value = Object.hasOwn(record, name) ? record[name] : undefined;
      // JSON null is how many clients say "not given".
      if (value !== undefined && value !== null) found.push({ name: prefix + name, value });
    }
  };
  collect(body, spec.flatNames, '');
  const group = spec.group !== undefined && Object.hasOwn(body, spec.group) ? body[spec.group] : undefined;
  if (group !== undefined && isRecord(group)) collect(group, spec.nestedNames, `${spec.group}.`);
  return found;
}

/** Reads every allowlisted field; unknown fields are ignored and never copied anywhere. */
function readFields(body: Body, form: boolean, violations: FieldViolation[], notices: FieldNotice[]): Map<string, FieldValue> {
  for (const group of ['contact', 'source', 'interest', 'consent']) {
    const value = Object.hasOwn(body, group) ? body[group] : undefined;
    if (value !== undefined && value !== null && !isRecord(value)) {
      violations.push({ field: group, description: 'must be an object' });
    }
  }
  const values = new Map<string, FieldValue>();
  for (const spec of FORM_FIELDS) {
    const found = findValues(body, spec);
    const [first] = found;
    if (first === undefined) continue;
    if (found.length > 1) {
      const names = found.map((entry) => entry.name).join(', ');
      violations.push({ field: spec.path, description: `is given more than once (as ${names})` });
      continue;
    }
    if (form && Array.isArray(first.value)) {
      violations.push({ field: spec.path, description: `is given more than once in the form (as ${first.name})` });
      continue;
    }
    const coerced = coerce(spec, first.value);
    if (!coerced.ok) violations.push(coerced.violation);
    else {
      values.set(spec.path, coerced.value);
      if (coerced.notice) notices.push(coerced.notice);
    }
  }
  return values;
}

function buildSubmission(values: ReadonlyMap<string, FieldValue>): WebFormSubmission {
  const text = (path: string) => {
    const value = values.get(path);
    return typeof value === 'string' ? value : '';
  };
  const idempotencyKey = text('idempotency_key');
  // A malformed tracking cookie only costs the visitor's earlier activity, never the lead itself.
  const visitorId = text('visitor_id');
  const companySize = values.get('contact.company_size');
  const givenAt = values.get('consent.given_at');
  return {
    ...(idempotencyKey !== '' ? { idempotencyKey } : {}),
    ...(isValidVisitorId(visitorId) ? { visitorId } : {}),
    contact: {
      email: text('contact.email'),
      firstName: text('contact.first_name'),
      lastName: text('contact.last_name'),
      phone: text('contact.phone'),
      company: text('contact.company'),
      jobTitle: text('contact.job_title'),
      country: text('contact.country'),
      companySize: typeof companySize === 'number' ? companySize : 0,
      industry: text('contact.industry'),
    },
    source: {
      formId: text('source.form_id'),
      pageUrl: text('source.page_url'),
      utmSource: text('source.utm_source'),
      utmMedium: text('source.utm_medium'),
      utmCampaign: text('source.utm_campaign'),
      utmTerm: text('source.utm_term'),
      utmContent: text('source.utm_content'),
      referrer: text('source.referrer'),
      campaignId: text('source.campaign_id'),
    },
    interest: { product: text('interest.product'), message: text('interest.message') },
    consent: {
      emailMarketing: values.get('consent.email_marketing') === true,
      wordingVersion: text('consent.wording_version'),
      ...(givenAt instanceof Date ? { givenAt } : {}),
    },
  };
}

/**
 * Reads a web-form POST (JSON, nested like SubmitLeadRequest or flat like an HTML form, or
 * application/x-www-form-urlencoded) into a submission, strictly: only allowlisted fields are read,
 * a value of the wrong kind (an object where a string belongs, such as a MongoDB operator
 * `{"$gt": ""}`) is a violation naming the field and is never passed on, and control characters
 * that could inject headers are refused. `body` may be the raw body (string or bytes) or what the
 * HTTP layer already parsed. `options.honeypot` names the hidden field a person leaves empty.
 * Never throws: every problem comes back as a violation.
 */
export function parseWebForm(body: unknown, contentType: string, options: { honeypot?: string } = {}): ParsedWebForm {
  const decoded = decodeBody(body, contentType);
  if (!decoded.ok) return { request: buildSubmission(new Map()), violations: [decoded.violation], notices: [], trapped: false };
  const violations: FieldViolation[] = [];
  const notices: FieldNotice[] = [];
  const request = buildSubmission(readFields(decoded.body, decoded.form, violations, notices));
  violations.push(...findSubmissionInjection(request));
  const trapped = options.honeypot !== undefined && honeypotFilled(decoded.body, options.honeypot);
  return { request, violations, notices, trapped };
}

/**
 * The one field of the lead whose bad value refuses it even where the contract's rules (lengths,
 * URI syntax) find it: without an email there is no lead. The request's own fields (an over-long
 * idempotency key) refuse it too: that is a client's bug, and setting the key aside would silently
 * lose the client's retry safety.
 */
const REQUIRED_FIELDS = new Set(['contact.email']);

/**
 * Sorts what the contract's rules found in a web-form submission: a violation in an optional field
 * (a page URL that is not absolute, a job title over its length) empties that field and becomes a
 * notice, so the person's lead is kept, with the value as typed on the raw submission; anything else
 * still refuses it. Call it with the rules' violations, then check the returned request again.
 */
export function setAsideOptionalFields(
  request: WebFormSubmission,
  violations: readonly FieldViolation[],
): { request: WebFormSubmission; notices: FieldNotice[]; refusals: FieldViolation[] } {
  const refusals: FieldViolation[] = [];
  const notices: FieldNotice[] = [];
  const settled = structuredClone(request);
  for (const violation of violations) {
    const spec = FORM_FIELDS.find((field) => field.path === violation.field);
    if (spec === undefined || spec.group === undefined || REQUIRED_FIELDS.has(spec.path)) {
      refusals.push(violation);
      continue;
    }
    const group = settled[spec.group] as Record<string, unknown>;
    const empty = typeof group[spec.camel] === 'number' ? 0 : typeof group[spec.camel] === 'boolean' ? false : '';
    if (spec.camel === 'givenAt') delete group[spec.camel];
    else group[spec.camel] = empty;
    notices.push({ field: violation.field, description: `${violation.description}; left empty` });
  }
  return { request: settled, notices, refusals };
}
