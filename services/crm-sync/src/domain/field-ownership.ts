// Which system owns each CRM field, and what leadmesh may write on an update. Sales works in the CRM:
// a rep who corrects a phone number, fills in the company or moves a lead's status on must not see
// the next rescore undo it. Pure: no I/O.
import type { CrmValue, FieldMapping, FieldMappingEntry } from './field-mapping.js';

/**
 * - leadmesh: leadmesh's value is written on every sync (scores, the routing decision's text fields).
 * - crm: a CRM user's edit wins. leadmesh writes its value only while the CRM still holds what
 *   leadmesh wrote last (or nothing), so a change of leadmesh's own value reaches the CRM unless sales
 *   changed the field in the meantime.
 * The default is `crm` for BOTH fields (sales may edit them) and `leadmesh` for TO_CRM fields.
 */
export type FieldOwner = 'leadmesh' | 'crm';

export function ownerOf(entry: FieldMappingEntry): FieldOwner {
  return entry.ownedBy ?? (entry.direction === 'BOTH' ? 'crm' : 'leadmesh');
}

/** Fields whose CRM value decides whether leadmesh may write them: owned by the CRM, or forward-only. */
const isGuarded = (entry: FieldMappingEntry) => ownerOf(entry) === 'crm' || entry.forwardOnly !== undefined;

/** Why a field leadmesh would have changed was left as the CRM holds it. */
export interface KeptCrmValue {
  field: string;
  reason: 'sales-edit' | 'not-forward';
}

export interface WritePlan {
  /** The fields to send in the update. */
  send: Record<string, CrmValue>;
  /** What leadmesh has written last per field after this update: the next update compares with it. */
  written: Record<string, CrmValue>;
  kept: KeptCrmValue[];
}

/**
 * The guarded fields whose CRM value must be read before an update: only those leadmesh wants to
 * change. A guarded field leadmesh would send unchanged is simply not sent, so it needs no read and
 * a sales edit of it survives.
 */
export function fieldsToRead(desired: Record<string, CrmValue>, mapping: FieldMapping, lastWritten: Record<string, unknown>): string[] {
  return guardedEntries(mapping)
    .map((e) => e.to)
    .filter((field) => Object.hasOwn(desired, field) && !same(lastWritten[field], desired[field]));
}

/**
 * The update of a record the CRM already holds. `crmNow` holds the CRM's current values of the fields
 * fieldsToRead named (absent or null when the field is empty there).
 */
export function planUpdate(
  desired: Record<string, CrmValue>,
  mapping: FieldMapping,
  lastWritten: Record<string, unknown>,
  crmNow: Record<string, unknown>,
): WritePlan {
  const guarded = new Map(guardedEntries(mapping).map((e) => [e.to, e]));
  const send: Record<string, CrmValue> = {};
  const written: Record<string, CrmValue> = {};
  for (const [field, value] of Object.entries(lastWritten)) if (isValue(value)) written[field] = value;
  const kept: KeptCrmValue[] = [];
  for (const [field, value] of Object.entries(desired)) {
    const entry = guarded.get(field);
    if (!entry) {
      send[field] = value;
      written[field] = value;
      continue;
    }
    const last = lastWritten[field];
    // Unchanged on our side: nothing to send, and whatever sales did to it stays.
    if (same(last, value)) continue;
    const now = crmNow[field];
    if (same(now, value)) {
      // The CRM already holds it (e.g. our write landed but its record did not): remember it as ours.
      written[field] = value;
      continue;
    }
    if (entry.forwardOnly && !movesForward(entry.forwardOnly, now, value)) {
      kept.push({ field, reason: 'not-forward' });
      continue;
    }
    if (ownerOf(entry) === 'crm' && !(isEmpty(now) || same(now, last))) {
      kept.push({ field, reason: 'sales-edit' });
      continue;
    }
    send[field] = value;
    written[field] = value;
  }
  return { send, written, kept };
}

/**
 * A forward-only field (a status, a lifecycle stage, an opt-out) moves to a later step of its list,
 * never back. A CRM value outside the list is a step sales took that leadmesh has no rule for
 * (Closed - Converted, a custom status): it is never overwritten. An empty field takes any value.
 */
export function movesForward(order: readonly CrmValue[], now: unknown, next: CrmValue): boolean {
  if (isEmpty(now)) return true;
  const from = order.findIndex((v) => same(v, now));
  const to = order.findIndex((v) => same(v, next));
  return from >= 0 && to > from;
}

function guardedEntries(mapping: FieldMapping): FieldMappingEntry[] {
  return mapping.fields.filter((e) => e.direction !== 'FROM_CRM' && isGuarded(e));
}

const isValue = (v: unknown): v is CrmValue => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

/** CRMs answer in their own types (HubSpot: every property a string), so values compare as text. */
function same(a: unknown, b: unknown): boolean {
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b);
  return String(a) === String(b);
}
