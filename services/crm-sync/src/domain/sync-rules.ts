// When crm-sync talks to the CRM again about a lead it already holds, and what it tells the CRM about
// email consent. Pure: no I/O.
import type { CrmValue, MappingIssue, OwnerLookup } from './field-mapping.js';

/**
 * True when the CRM already holds exactly these mapped fields, so an update (a rescore that did not
 * move the grade, a replay) can skip the call instead of spending the CRM's request budget.
 */
export function sameCrmFields(stored: Record<string, unknown> | undefined, next: Record<string, CrmValue>): boolean {
  if (!stored) return false;
  const storedKeys = Object.keys(stored).filter((k) => stored[k] !== undefined && stored[k] !== null);
  const nextKeys = Object.keys(next);
  if (storedKeys.length !== nextKeys.length) return false;
  return nextKeys.every((key) => Object.hasOwn(stored, key) && sameValue(stored[key], next[key]));
}

/** The same named issues (code and field) as the last sync reported: nothing new to tell anyone. */
export function sameIssues(stored: readonly MappingIssue[] | undefined, next: readonly MappingIssue[]): boolean {
  const key = (list: readonly MappingIssue[]) => list.map((i) => `${i.code}:${i.field}:${i.message}`).sort().join('|');
  return key(stored ?? []) === key(next);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date) return b instanceof Date ? a.getTime() === b.getTime() : a.toISOString() === b;
  return a === b;
}

/**
 * Marketing consent as the CRM should see it: what the contact gave at intake, withdrawn for good once
 * they unsubscribed (an unsubscribe outranks any later form fill until they opt in again at intake,
 * which is intake's decision, not ours).
 */
export function emailMarketingConsent(givenAtIntake: boolean, unsubscribed: boolean): boolean {
  return givenAtIntake && !unsubscribed;
}

/** routing owner id -> CRM owner id, e.g. 'avery-chen' -> HubSpot owner '81234567'. */
export type OwnerDirectory = ReadonlyMap<string, string>;

export class OwnerDirectoryError extends Error {
  override readonly name = 'OwnerDirectoryError';
  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
  }
}

const OWNER_ID = /^[a-z0-9][a-z0-9-]*$/;

/** Reads `{ owners: { <routing owner id>: <CRM owner id> } }` (a parsed YAML or JSON file). */
export function parseOwnerDirectory(raw: unknown, source: string): OwnerDirectory {
  const owners = isRecord(raw) ? raw.owners : undefined;
  if (!isRecord(owners)) throw new OwnerDirectoryError(source, 'must hold an "owners" mapping of routing owner id to CRM owner id');
  return toDirectory(Object.entries(owners), source);
}

/** Reads `avery-chen=81234567,marcus-reed=81234568` (an environment variable). */
export function parseOwnerPairs(text: string, source: string): OwnerDirectory {
  const pairs = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((pair): [string, unknown] => {
      const at = pair.indexOf('=');
      if (at < 1) throw new OwnerDirectoryError(source, `"${pair}" is not <routing owner id>=<CRM owner id>`);
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    });
  return toDirectory(pairs, source);
}

function toDirectory(entries: Array<[string, unknown]>, source: string): OwnerDirectory {
  const directory = new Map<string, string>();
  for (const [ownerId, crmOwner] of entries) {
    if (!OWNER_ID.test(ownerId)) throw new OwnerDirectoryError(source, `"${ownerId}" is not a routing owner id (lowercase letters, digits, dashes)`);
    const value = typeof crmOwner === 'number' && Number.isInteger(crmOwner) ? String(crmOwner) : crmOwner;
    if (typeof value !== 'string' || value.trim() === '') throw new OwnerDirectoryError(source, `owner "${ownerId}" needs a non-empty CRM owner id`);
    directory.set(ownerId, value.trim());
  }
  if (directory.size === 0) throw new OwnerDirectoryError(source, 'names no owners');
  return directory;
}

export function ownerLookupFrom(directory: OwnerDirectory): OwnerLookup {
  return (ownerId) => directory.get(ownerId);
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
