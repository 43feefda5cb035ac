// Which lead fact lands in which CRM field. Mappings are versioned data (mappings/*.yaml), so a
// marketing-ops change to the CRM schema is a reviewed file change, not a code change. Pure: no I/O.

export type CrmName = 'salesforce' | 'hubspot';
export type MappingDirection = 'TO_CRM' | 'FROM_CRM' | 'BOTH';
export type MappingTransform = 'string' | 'number' | 'boolean' | 'not' | 'isoDate' | 'ownerLookup';
export type CrmValue = string | number | boolean;

export interface FieldMappingEntry {
  /** Path in CrmLeadSnapshot, e.g. 'contact.email'. */
  from: string;
  /** The CRM's field API name, e.g. 'Email' or 'hs_lead_status'. */
  to: string;
  direction: MappingDirection;
  /** A missing value is an error unless `default` supplies one. */
  required?: boolean;
  transform?: MappingTransform;
  /** Sent when the lead has no value (e.g. Salesforce's own '[not provided]' for LastName). */
  default?: CrmValue;
  /** Translates our values to the CRM's picklist values; '*' catches the rest. */
  values?: Record<string, CrmValue>;
  /**
   * A missing value that must not cost the lead its sync yet must not pass unnoticed: the field is
   * left out and the sync reports an issue with this code, naming the snapshot value `about` points
   * at (e.g. the owner with no CRM user). Only reported when the value's parent is present: a lead
   * not yet routed has no owner to miss.
   */
  reportMissing?: { code: string; about?: string };
  /** Which system's edit wins on an update (field-ownership.ts); BOTH fields default to the CRM. */
  ownedBy?: 'leadmesh' | 'crm';
  /** The field only moves to a later value of this list (a status, a stage, an opt-out). */
  forwardOnly?: CrmValue[];
  /** Where the value goes once sales converted the Lead into a Contact (Salesforce), if anywhere. */
  contactField?: string;
}

/** A problem of one lead's mapping that did not stop its sync, e.g. OWNER_NOT_MAPPED. */
export interface MappingIssue {
  code: string;
  /** The CRM field left out. */
  field: string;
  message: string;
}

export interface MappedLead {
  fields: Record<string, CrmValue>;
  issues: MappingIssue[];
}

export interface FieldMapping {
  version: number;
  crm: CrmName;
  fields: FieldMappingEntry[];
}

export interface CrmLeadSnapshot {
  leadId: string;
  contact: {
    email: string;
    firstName?: string;
    lastName?: string;
    phone?: string;
    company?: string;
    jobTitle?: string;
    country?: string;
  };
  source: { formId?: string; utmSource?: string; utmMedium?: string; utmCampaign?: string; campaignId?: string | undefined };
  consent: { emailMarketing: boolean };
  score?: {
    fitScore: number;
    engagementScore: number;
    grade: string;
    lifecycleStage: 'lead' | 'mql';
    ruleSetVersion: string;
  };
  assignment?: {
    ownerId: string;
    ownerName: string;
    ownerEmail?: string | undefined;
    teamId: string;
    /** The owner's Salesforce User Id, from routing's owner configuration via the event. */
    salesforceUserId?: string | undefined;
    /** The owner's HubSpot owner id, likewise. */
    hubspotOwnerId?: string | undefined;
  };
  nurture?: { trackId: string };
  /** Unknown only for a lead whose events came from before intake stamped it on the profile. */
  receivedAt?: Date | undefined;
}

/** Every path a mapping may read; a typo in a mapping file fails at load, not on the first lead. */
export const SNAPSHOT_PATHS: readonly string[] = [
  'leadId', 'receivedAt',
  'contact.email', 'contact.firstName', 'contact.lastName', 'contact.phone', 'contact.company',
  'contact.jobTitle', 'contact.country',
  'source.formId', 'source.utmSource', 'source.utmMedium', 'source.utmCampaign',
  'consent.emailMarketing',
  'score.fitScore', 'score.engagementScore', 'score.grade', 'score.lifecycleStage', 'score.ruleSetVersion',
  'assignment.ownerId', 'assignment.ownerName', 'assignment.ownerEmail', 'assignment.teamId',
  'assignment.salesforceUserId', 'assignment.hubspotOwnerId',
  'nurture.trackId',
];

const TRANSFORMS: readonly MappingTransform[] = ['string', 'number', 'boolean', 'not', 'isoDate', 'ownerLookup'];
const DIRECTIONS: readonly MappingDirection[] = ['TO_CRM', 'FROM_CRM', 'BOTH'];

/** A lead that cannot be mapped: names the lead and the field so dead letters say what to fix. */
export class FieldMappingError extends Error {
  override readonly name = 'FieldMappingError';
  constructor(
    readonly leadId: string,
    readonly field: string,
    readonly crmField: string,
    readonly reason: string,
  ) {
    super(`lead ${leadId}: field ${field} -> ${crmField}: ${reason}`);
  }
}

/** A mapping file that is not a valid mapping; `path` points into the file. */
export class FieldMappingConfigError extends Error {
  override readonly name = 'FieldMappingConfigError';
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
  }
}

export type OwnerLookup = (ownerId: string) => string | undefined;

export function mapToCrm(
  snapshot: CrmLeadSnapshot,
  mapping: FieldMapping,
  ownerLookup?: OwnerLookup,
): Record<string, CrmValue> {
  return mapLead(snapshot, mapping, ownerLookup).fields;
}

/** The lead's CRM fields and the issues found on the way (fields left out, each named). */
export function mapLead(snapshot: CrmLeadSnapshot, mapping: FieldMapping, ownerLookup?: OwnerLookup): MappedLead {
  const out: Record<string, CrmValue> = {};
  const issues: MappingIssue[] = [];
  for (const entry of mapping.fields) {
    if (entry.direction === 'FROM_CRM') continue;
    const fail = (reason: string) => new FieldMappingError(snapshot.leadId, entry.from, entry.to, reason);
    const raw = readPath(snapshot, entry.from);
    if (isMissing(raw)) {
      if (entry.default !== undefined) out[entry.to] = entry.default;
      else if (entry.reportMissing) {
        const parent = readPath(snapshot, entry.from.split('.').slice(0, -1).join('.'));
        if (parent !== undefined && parent !== null) issues.push(missingIssue(snapshot, entry, entry.reportMissing));
      } else if (entry.required) throw fail('required value is missing');
      continue;
    }
    const translated = entry.values ? translate(raw, entry.values, fail) : raw;
    out[entry.to] = convert(translated, entry.transform, ownerLookup, fail);
  }
  return { fields: out, issues };
}

function missingIssue(snapshot: CrmLeadSnapshot, entry: FieldMappingEntry, report: { code: string; about?: string }): MappingIssue {
  const about = report.about ? readPath(snapshot, report.about) : undefined;
  const subject = about === undefined || about === null || about === '' ? '' : ` for ${report.about} "${String(about)}"`;
  return { code: report.code, field: entry.to, message: `${entry.from} is missing${subject}; ${entry.to} was not written` };
}

function readPath(snapshot: CrmLeadSnapshot, path: string): unknown {
  let node: unknown = snapshot;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const isMissing = (value: unknown) =>
  value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

function translate(value: unknown, table: Record<string, CrmValue>, fail: (r: string) => Error): CrmValue {
  const key = String(value);
  const hit = Object.hasOwn(table, key) ? table[key] : table['*'];
  if (hit === undefined) throw fail(`value "${key}" has no entry in the mapping's values table`);
  return hit;
}

function convert(
  value: unknown,
  transform: MappingTransform | undefined,
  ownerLookup: OwnerLookup | undefined,
  fail: (r: string) => Error,
): CrmValue {
  switch (transform) {
    case undefined:
      if (value instanceof Date) return isoDate(value, fail);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
      throw fail(`value of type ${typeof value} cannot be sent without a transform`);
    case 'string':
      if (value instanceof Date) return isoDate(value, fail);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw fail(`cannot convert ${typeof value} to string`);
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw fail(`"${String(value)}" is not a number`);
      return n;
    }
    case 'boolean':
    case 'not': {
      const b = toBoolean(value);
      if (b === undefined) throw fail(`"${String(value)}" is not a boolean`);
      return transform === 'not' ? !b : b;
    }
    case 'isoDate':
      return isoDate(value instanceof Date ? value : typeof value === 'string' ? new Date(value) : new Date(NaN), fail);
    case 'ownerLookup': {
      if (!ownerLookup) throw fail('ownerLookup transform needs an owner directory and none was given');
      const crmOwner = ownerLookup(String(value));
      if (crmOwner === undefined || crmOwner === '') throw fail(`owner "${String(value)}" has no CRM user`);
      return crmOwner;
    }
  }
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

function isoDate(date: Date, fail: (r: string) => Error): string {
  if (Number.isNaN(date.getTime())) throw fail('not a valid date');
  return date.toISOString();
}

/** Validates an untrusted mapping (e.g. parsed YAML); every error names its path in the file. */
export function parseFieldMapping(raw: unknown): FieldMapping {
  const doc = asObject(raw, '$');
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new FieldMappingConfigError('version', 'must be a positive integer');
  }
  if (doc.crm !== 'salesforce' && doc.crm !== 'hubspot') {
    throw new FieldMappingConfigError('crm', `must be "salesforce" or "hubspot", got ${JSON.stringify(doc.crm)}`);
  }
  if (!Array.isArray(doc.fields) || doc.fields.length === 0) {
    throw new FieldMappingConfigError('fields', 'must be a non-empty list');
  }
  const seenTargets = new Set<string>();
  const fields = doc.fields.map((item: unknown, i: number) => {
    const entry = parseEntry(item, `fields[${i}]`);
    if (entry.direction !== 'FROM_CRM') {
      if (seenTargets.has(entry.to)) throw new FieldMappingConfigError(`fields[${i}].to`, `"${entry.to}" is mapped twice`);
      seenTargets.add(entry.to);
    }
    return entry;
  });
  return { version, crm: doc.crm, fields };
}

const ENTRY_KEYS = new Set(['from', 'to', 'direction', 'required', 'transform', 'default', 'values', 'reportMissing', 'ownedBy', 'forwardOnly', 'contactField']);

function parseEntry(raw: unknown, path: string): FieldMappingEntry {
  const item = asObject(raw, path);
  for (const key of Object.keys(item)) {
    if (!ENTRY_KEYS.has(key)) throw new FieldMappingConfigError(`${path}.${key}`, 'unknown key');
  }
  if (typeof item.from !== 'string' || !SNAPSHOT_PATHS.includes(item.from)) {
    throw new FieldMappingConfigError(`${path}.from`, `must be one of ${SNAPSHOT_PATHS.join(', ')}`);
  }
  if (typeof item.to !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(item.to)) {
    throw new FieldMappingConfigError(`${path}.to`, 'must be a CRM field API name (letters, digits, underscores)');
  }
  if (!DIRECTIONS.includes(item.direction as MappingDirection)) {
    throw new FieldMappingConfigError(`${path}.direction`, `must be one of ${DIRECTIONS.join(', ')}`);
  }
  if (item.required !== undefined && typeof item.required !== 'boolean') {
    throw new FieldMappingConfigError(`${path}.required`, 'must be true or false');
  }
  if (item.transform !== undefined && !TRANSFORMS.includes(item.transform as MappingTransform)) {
    throw new FieldMappingConfigError(`${path}.transform`, `must be one of ${TRANSFORMS.join(', ')}`);
  }
  if (item.default !== undefined && !isCrmValue(item.default)) {
    throw new FieldMappingConfigError(`${path}.default`, 'must be a string, number or boolean');
  }
  let values: Record<string, CrmValue> | undefined;
  if (item.values !== undefined) {
    const table = asObject(item.values, `${path}.values`);
    for (const [key, value] of Object.entries(table)) {
      if (!isCrmValue(value)) throw new FieldMappingConfigError(`${path}.values.${key}`, 'must be a string, number or boolean');
    }
    values = table as Record<string, CrmValue>;
  }
  let reportMissing: FieldMappingEntry['reportMissing'];
  if (item.reportMissing !== undefined) {
    const report = asObject(item.reportMissing, `${path}.reportMissing`);
    if (typeof report.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(report.code)) {
      throw new FieldMappingConfigError(`${path}.reportMissing.code`, 'must be an UPPER_SNAKE_CASE issue code');
    }
    if (report.about !== undefined && (typeof report.about !== 'string' || !SNAPSHOT_PATHS.includes(report.about))) {
      throw new FieldMappingConfigError(`${path}.reportMissing.about`, `must be one of ${SNAPSHOT_PATHS.join(', ')}`);
    }
    if (item.required === true) throw new FieldMappingConfigError(`${path}.reportMissing`, 'a required field cannot be reported missing instead');
    reportMissing = { code: report.code, ...(typeof report.about === 'string' && { about: report.about }) };
  }
  if (item.ownedBy !== undefined && item.ownedBy !== 'leadmesh' && item.ownedBy !== 'crm') {
    throw new FieldMappingConfigError(`${path}.ownedBy`, 'must be "leadmesh" or "crm"');
  }
  if (item.forwardOnly !== undefined && (!Array.isArray(item.forwardOnly) || item.forwardOnly.length < 2 || !item.forwardOnly.every(isCrmValue))) {
    throw new FieldMappingConfigError(`${path}.forwardOnly`, 'must list at least two values, first to last');
  }
  if (item.contactField !== undefined && (typeof item.contactField !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(item.contactField))) {
    throw new FieldMappingConfigError(`${path}.contactField`, 'must be a Contact field API name');
  }
  return {
    from: item.from,
    to: item.to,
    direction: item.direction as MappingDirection,
    ...(reportMissing && { reportMissing }),
    ...(typeof item.contactField === 'string' && { contactField: item.contactField }),
    ...(item.ownedBy !== undefined && { ownedBy: item.ownedBy as 'leadmesh' | 'crm' }),
    ...(item.forwardOnly !== undefined && { forwardOnly: item.forwardOnly as CrmValue[] }),
    ...(item.required !== undefined && { required: item.required }),
    ...(item.transform !== undefined && { transform: item.transform as MappingTransform }),
    ...(item.default !== undefined && { default: item.default as CrmValue }),
    ...(values && { values }),
  };
}

function asObject(raw: unknown, path: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FieldMappingConfigError(path, 'must be a mapping (an object)');
  }
  return raw as Record<string, unknown>;
}

const isCrmValue = (v: unknown): v is CrmValue =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';

/**
 * The fields of a Lead update that still mean something once sales converted the Lead: renamed to
 * the Contact's fields, the rest (score, status, routing) dropped, as they describe the lead only.
 */
export function toContactFields(leadFields: Record<string, CrmValue>, mapping: FieldMapping): Record<string, CrmValue> {
  const out: Record<string, CrmValue> = {};
  for (const entry of mapping.fields) {
    if (entry.contactField && Object.hasOwn(leadFields, entry.to)) out[entry.contactField] = leadFields[entry.to] as CrmValue;
  }
  return out;
}
