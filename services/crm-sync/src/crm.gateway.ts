import { createCrmAdapter } from './crm/create-crm-adapter.js';
import type { CrmPort, CrmUpsertResult } from './crm/crm-port.js';
import { loadCampaignMapping, loadFieldMapping } from './crm/mapping-files.js';
import type { CampaignMapping } from './domain/campaigns.js';
import { mapLead, type CrmLeadSnapshot, type CrmValue, type FieldMapping, type MappedLead, type OwnerLookup } from './domain/field-mapping.js';
import { assertOwnerLookupPresent, ownerLookupFromEnv } from './owner-directory.js';

/** The lead was erased while its upsert waited for its turn: it was not sent. */
export class LeadErasedError extends Error {
  constructor(readonly leadId: string) {
    super(`lead ${leadId} was erased before its CRM write went out`);
  }
}

interface PendingUpsert {
  leadId: string;
  fields: Record<string, CrmValue>;
  resolve(result: CrmUpsertResult): void;
  reject(err: unknown): void;
}

/**
 * The configured CRM, the field mapping that goes with it, and the owner directory it may need.
 * Upserts go out one by one while the CRM keeps up; once `maxInFlight` requests are waiting on it,
 * the leads that queue up behind them go together as one batch (sObject Collections, HubSpot batch
 * upsert), so a backlog drains in a few calls instead of thousands.
 */
export class CrmGateway {
  private readonly queue: PendingUpsert[] = [];
  /** What an update of a Lead sales converted does: follow it to the Contact, or stop (CRM_CONVERTED_LEAD_RULE). */
  convertedRule: 'follow' | 'stop' = 'follow';
  /** Which CRM campaign a lead's utm_campaign stands for; none until fromEnv loads the file. */
  campaigns: CampaignMapping = { version: 0, memberStatus: 'Responded', campaigns: new Map() };
  /**
   * Whether a lead has been erased (the service's in-memory view of erasures), asked as each upsert
   * leaves the queue: one that waited behind a backlog while the erasure went through is not sent.
   */
  isErased: (leadId: string) => Promise<boolean> = async () => false;
  private inFlight = 0;

  constructor(
    readonly crm: CrmPort,
    readonly mapping: FieldMapping,
    readonly ownerLookup?: OwnerLookup,
    private readonly maxInFlight = Number(process.env.CRM_MAX_IN_FLIGHT ?? 4),
    private readonly maxBatch = 200,
  ) {}

  static async fromEnv(env: NodeJS.ProcessEnv): Promise<CrmGateway> {
    const crm = createCrmAdapter(env);
    const mapping = await loadFieldMapping(crm.name, env.CRM_MAPPINGS_DIR || undefined);
    const ownerLookup = await ownerLookupFromEnv(env);
    assertOwnerLookupPresent(mapping, ownerLookup);
    const gateway = new CrmGateway(crm, mapping, ownerLookup);
    gateway.campaigns = await loadCampaignMapping(env.CRM_MAPPINGS_DIR || undefined);
    const rule = env.CRM_CONVERTED_LEAD_RULE ?? 'follow';
    if (rule !== 'follow' && rule !== 'stop') throw new Error(`CRM_CONVERTED_LEAD_RULE must be "follow" or "stop", got "${rule}"`);
    gateway.convertedRule = rule;
    return gateway;
  }

  /** The CRM fields of this lead and the fields left out for a named reason; a FieldMappingError names the field and the lead. */
  map(snapshot: CrmLeadSnapshot): MappedLead {
    return mapLead(snapshot, this.mapping, this.ownerLookup);
  }

  /** Creates or updates the lead's one CRM record (the adapters upsert by our lead id or the email). */
  send(leadId: string, fields: Record<string, CrmValue>): Promise<CrmUpsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ leadId, fields, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.dispatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async dispatch(queued: PendingUpsert[]): Promise<void> {
    try {
      // The erasure may already have deleted the lead's record: this write would make it again.
      const batch: PendingUpsert[] = [];
      for (const item of queued) {
        if (await this.isErased(item.leadId)) item.reject(new LeadErasedError(item.leadId));
        else batch.push(item);
      }
      if (batch.length === 0) return;
      if (batch.length === 1) {
        const [only] = batch as [PendingUpsert];
        only.resolve(await this.crm.upsertLead(only.leadId, only.fields));
        return;
      }
      const results = await this.crm.upsertLeads(batch.map(({ leadId, fields }) => ({ leadId, fields })));
      batch.forEach((item, i) => {
        const result = results[i];
        if (result?.error) item.reject(result.error);
        else if (result?.crmId) item.resolve({ crmId: result.crmId, created: result.created ?? false });
        else item.reject(new Error(`the CRM answered no result for lead ${item.leadId}`));
      });
    } catch (err) {
      // Rejecting an item already settled above changes nothing.
      for (const item of queued) item.reject(err);
    }
  }
}
