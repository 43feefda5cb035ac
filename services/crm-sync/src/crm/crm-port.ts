// The one door to a CRM. crm-sync's consumer talks to this port and decides what to do with a
// failure by its class alone: permanent (dead letter), rate limited or unavailable (nak and wait).
import type { CrmAccountSeen } from '../domain/crm-accounts.js';
import type { CrmRecordSeen } from '../domain/crm-changes.js';
import type { CrmName } from '../domain/field-mapping.js';

export type { CrmName };

export interface CrmUpsertResult {
  crmId: string;
  created: boolean;
}

export interface CampaignMemberResult {
  /** The membership's own id where the CRM has one (Salesforce CampaignMember Id). */
  memberId?: string;
  /** The lead was a member already (a redelivered event, or sales added it). */
  already: boolean;
}

export interface CrmBatchItem {
  leadId: string;
  fields: Record<string, unknown>;
}

export interface CrmBatchResult {
  leadId: string;
  crmId?: string;
  created?: boolean;
  error?: CrmError;
}

export interface CrmPort {
  readonly name: CrmName;
  /** Creates or updates the one CRM record of this lead; the same lead never gets a second record. */
  upsertLead(leadId: string, fields: Record<string, unknown>): Promise<CrmUpsertResult>;
  /** For a backlog: one result per item, in order; an item's failure does not fail the others. */
  upsertLeads(batch: CrmBatchItem[]): Promise<CrmBatchResult[]>;
  /**
   * The CRM's current values of some fields of the lead's record (null or absent when empty), read
   * before an update so that leadmesh never overwrites what sales changed (field ownership).
   */
  readLead(crmId: string, fields: string[]): Promise<Record<string, unknown>>;
  /**
   * Makes the lead's record a member of a CRM campaign (Salesforce CampaignMember with `status`,
   * HubSpot list membership). Already a member is a success with `already`; a campaign the CRM does
   * not know is a CrmValidationError.
   */
  addCampaignMember(crmId: string, campaignId: string, status: string): Promise<CampaignMemberResult>;
  /** The Contact a converted Lead became, or undefined while it is not converted (or the CRM has no such thing). */
  convertedTo(crmId: string): Promise<{ contactId: string } | undefined>;
  /** Updates the Contact a converted Lead became (Contact field names). */
  updateContact(contactId: string, fields: Record<string, unknown>): Promise<void>;
  /**
   * Lead records the CRM modified after `since` (Salesforce SystemModstamp, HubSpot lastmodifieddate),
   * oldest first, at most `limit`, with the named fields: how changes sales made are found by polling.
   */
  changedSince(since: Date, fields: string[], limit: number): Promise<CrmRecordSeen[]>;
  /** One record as it is now, with the named fields and its modification stamp (a webhook named it). */
  readChanged(crmId: string, fields: string[]): Promise<CrmRecordSeen>;
  /**
   * Accounts (Salesforce Account, HubSpot company) the CRM modified after `since`, oldest first, at
   * most `limit`, with their name, domains and owner: how routing's account list is kept current.
   */
  accountsChangedSince(since: Date, limit: number): Promise<CrmAccountSeen[]>;
  /** A cheap read that succeeds only when the CRM answers (the half-open trial after an outage). */
  probe(): Promise<void>;
  /**
   * Erasure: removes the lead's record for good, never to a recycle bin or an archive it could be
   * restored from (Salesforce hardDelete, HubSpot GDPR delete). Deleting a record that is already
   * gone succeeds.
   */
  deleteLead(leadId: string, crmId?: string): Promise<void>;
}

export interface CrmErrorDetails {
  /** The CRM's own error code, e.g. REQUIRED_FIELD_MISSING or VALIDATION_ERROR. */
  code?: string;
  status?: number;
  /** The CRM fields the error concerns, when it says. */
  fields?: string[];
  cause?: unknown;
}

export abstract class CrmError extends Error {
  /** True when waiting and trying again can succeed; false sends the lead to dead letters. */
  abstract readonly transient: boolean;
  readonly crm: CrmName;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly fields: string[];

  constructor(crm: CrmName, message: string, details: CrmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.crm = crm;
    this.code = details.code;
    this.status = details.status;
    this.fields = details.fields ?? [];
  }

  /**
   * What may leave crm-sync (logs, spans, dead-letter headers, crm.sync_failed): the CRM, the kind
   * of failure, its code, HTTP status and field names, never the CRM's own text, which echoes the
   * values it refused (an address, a name).
   */
  get safeMessage(): string {
    const status = this.status ? ` HTTP ${this.status}` : '';
    const fields = this.fields.length ? ` on ${this.fields.join(', ')}` : '';
    return `${this.crm} ${this.name}: ${this.code ?? 'no code'}${status}${fields}`;
  }
}

/** The CRM refused the record as it is (4xx validation). Retrying the same data cannot help. */
export class CrmValidationError extends CrmError {
  override readonly name = 'CrmValidationError';
  readonly transient = false;
}

/** The CRM asked us to slow down; nothing should be sent before retryAfterMs has passed. */
export class CrmRateLimitedError extends CrmError {
  override readonly name = 'CrmRateLimitedError';
  readonly transient = true;
  readonly retryAfterMs: number;
  constructor(crm: CrmName, message: string, retryAfterMs: number, details: CrmErrorDetails = {}) {
    super(crm, message, details);
    this.retryAfterMs = retryAfterMs;
  }
}

/** 5xx, timeouts, network failures, an open circuit breaker or our own credentials being refused. */
export class CrmUnavailableError extends CrmError {
  override readonly name = 'CrmUnavailableError';
  readonly transient = true;
  readonly breakerOpen: boolean;
  constructor(crm: CrmName, message: string, details: CrmErrorDetails & { breakerOpen?: boolean } = {}) {
    super(crm, message, details);
    this.breakerOpen = details.breakerOpen ?? false;
  }
}

/** The external id matched several CRM records (Salesforce 300): a human must merge them first. */
export class CrmConflictError extends CrmError {
  override readonly name = 'CrmConflictError';
  readonly transient = false;
  /** Where the CRM says the matching records are. */
  readonly matches: string[];
  constructor(crm: CrmName, message: string, matches: string[], details: CrmErrorDetails = {}) {
    super(crm, message, details);
    this.matches = matches;
  }
}

/**
 * The CRM record is a Salesforce Lead that sales converted (CANNOT_UPDATE_CONVERTED_LEAD): it takes
 * no more updates, and an upsert must not make a second Lead. crm-sync follows it to the Contact or
 * stops, by rule; retrying the same update can never help.
 */
export class CrmConvertedError extends CrmError {
  override readonly name = 'CrmConvertedError';
  readonly transient = false;
}
