// Which changes sales made in the CRM leadmesh takes back: a new owner, and a status that means the
// owner accepted the lead. Leadmesh's own writes come back from the CRM too (a poll sees every
// modified record, a webhook every property change); they are told apart by comparing with what
// leadmesh last wrote (kept on the sync record) and with the CRM state last taken back. Pure: no I/O.
import type { CrmValue, FieldMapping } from './field-mapping.js';

/** The CRM fields a change is read from, as the field mapping names them. */
export interface ChangeFields {
  /** OwnerId (Salesforce), hubspot_owner_id (HubSpot). */
  owner?: string | undefined;
  /** Status (Salesforce), hs_lead_status (HubSpot). */
  status?: string | undefined;
}

export function changeFieldsOf(mapping: FieldMapping): ChangeFields {
  const to = (...from: string[]) => mapping.fields.find((f) => from.includes(f.from) && f.direction !== 'FROM_CRM')?.to;
  return { owner: to('assignment.salesforceUserId', 'assignment.hubspotOwnerId'), status: to('score.lifecycleStage') };
}

/** One CRM record as a poll or a webhook read it. */
export interface CrmRecordSeen {
  crmId: string;
  /** Our lead id, when the CRM record carries it (Salesforce external id, HubSpot leadmesh_lead_id). */
  leadId?: string | undefined;
  /** The owner and status fields' values, by CRM field name. */
  values: Record<string, unknown>;
  /** The CRM's modification stamp: Salesforce SystemModstamp, HubSpot lastmodifieddate. */
  modifiedAt: Date;
}

/** The CRM state leadmesh last took back for a lead (what the last change published said). */
export interface CrmStateSeen {
  owner?: string | undefined;
  status?: string | undefined;
}

export interface DetectedChange {
  ownerChanged: boolean;
  crmOwnerId: string;
  crmStatus: string;
  accepted: boolean;
  /** The state to remember, so that the same change is not taken back twice. */
  seen: CrmStateSeen;
}

/**
 * What sales changed: the owner when the CRM holds one that leadmesh neither wrote last nor took back
 * already; an acceptance when the status is one of `acceptedStatuses` and it is neither what
 * leadmesh wrote nor what was taken back. Undefined when the record holds nothing new from sales.
 */
export function detectCrmChange(record: CrmRecordSeen, fields: ChangeFields, written: Record<string, unknown>, seen: CrmStateSeen | undefined, acceptedStatuses: readonly string[]): DetectedChange | undefined {
  const owner = fields.owner ? text(record.values[fields.owner]) : undefined;
  const status = fields.status ? text(record.values[fields.status]) : undefined;
  const ownerChanged = owner !== undefined && owner !== text(written[fields.owner!]) && owner !== seen?.owner;
  const accepted = status !== undefined && acceptedStatuses.includes(status) && status !== text(written[fields.status!]) && status !== seen?.status;
  if (!ownerChanged && !accepted) return undefined;
  return {
    ownerChanged,
    crmOwnerId: owner ?? '',
    crmStatus: status ?? '',
    accepted,
    seen: { ...seen, ...(ownerChanged && { owner }), ...(accepted && { status }) },
  };
}

export class AcceptedStatusesError extends Error {
  override readonly name = 'AcceptedStatusesError';
}

/**
 * The statuses that mean accepted (CRM_ACCEPTED_STATUSES, comma separated), defaulting per CRM.
 * A status leadmesh itself writes cannot mean accepted: leadmesh's own write would then read as the
 * owner's acceptance, and stop the SLA clock for a lead nobody took.
 */
export function acceptedStatuses(raw: string | undefined, mapping: FieldMapping): string[] {
  const list = (raw ?? DEFAULT_ACCEPTED[mapping.crm]).split(',').map((s) => s.trim()).filter((s) => s !== '');
  const statusEntry = mapping.fields.find((f) => f.from === 'score.lifecycleStage' && f.direction !== 'FROM_CRM');
  const ours = new Set<CrmValue>([...Object.values(statusEntry?.values ?? {}), ...(statusEntry?.default !== undefined ? [statusEntry.default] : [])]);
  const clash = list.find((s) => ours.has(s));
  if (clash) throw new AcceptedStatusesError(`CRM_ACCEPTED_STATUSES: "${clash}" is a status leadmesh writes to ${statusEntry?.to} itself, so it cannot mean the owner accepted the lead`);
  return list;
}

/** Salesforce: the statuses a rep moves a lead to on taking it; HubSpot: hs_lead_status values past NEW and OPEN. */
const DEFAULT_ACCEPTED: Record<FieldMapping['crm'], string> = {
  salesforce: 'Accepted,Qualified,Closed - Converted',
  hubspot: 'IN_PROGRESS,CONNECTED,OPEN_DEAL',
};

const text = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
