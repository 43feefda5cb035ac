import { createCrmAdapter } from './crm/create-crm-adapter.js';
import type { CrmPort, CrmUpsertResult } from './crm/crm-port.js';
import { loadFieldMapping } from './crm/mapping-files.js';
import { mapToCrm, type CrmLeadSnapshot, type CrmValue, type FieldMapping, type OwnerLookup } from './domain/field-mapping.js';
import { assertOwnerLookupPresent, ownerLookupFromEnv } from './owner-directory.js';

/** The configured CRM, the field mapping that goes with it, and the owner directory it may need. */
export class CrmGateway {
  constructor(
    readonly crm: CrmPort,
    readonly mapping: FieldMapping,
    readonly ownerLookup?: OwnerLookup,
  ) {}

  static async fromEnv(env: NodeJS.ProcessEnv): Promise<CrmGateway> {
    const crm = createCrmAdapter(env);
    const mapping = await loadFieldMapping(crm.name, env.CRM_MAPPINGS_DIR || undefined);
    const ownerLookup = await ownerLookupFromEnv(env);
    assertOwnerLookupPresent(mapping, ownerLookup);
    return new CrmGateway(crm, mapping, ownerLookup);
  }

  /** The CRM fields of this lead; a FieldMappingError names the field and the lead. */
  map(snapshot: CrmLeadSnapshot): Record<string, CrmValue> {
    return mapToCrm(snapshot, this.mapping, this.ownerLookup);
  }

  /** Creates or updates the lead's one CRM record (the adapters upsert by our lead id or the email). */
  send(leadId: string, fields: Record<string, CrmValue>): Promise<CrmUpsertResult> {
    return this.crm.upsertLead(leadId, fields);
  }
}
