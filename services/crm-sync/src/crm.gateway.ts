import { createCrmAdapter } from './crm/create-crm-adapter.js';
import type { CrmPort, CrmUpsertResult } from './crm/crm-port.js';
import { loadFieldMapping } from './crm/mapping-files.js';
import { mapToCrm, type CrmLeadSnapshot, type FieldMapping } from './domain/field-mapping.js';

/** The configured CRM and the field mapping that goes with it. */
export class CrmGateway {
  constructor(
    readonly crm: CrmPort,
    readonly mapping: FieldMapping,
  ) {}

  static async fromEnv(env: NodeJS.ProcessEnv): Promise<CrmGateway> {
    const crm = createCrmAdapter(env);
    return new CrmGateway(crm, await loadFieldMapping(crm.name, env.CRM_MAPPINGS_DIR || undefined));
  }

  /** Maps the lead's fields (a mapping error names the field and the lead) and upserts its one record. */
  upsert(snapshot: CrmLeadSnapshot): Promise<CrmUpsertResult & { fields: Record<string, unknown> }> {
    const fields = mapToCrm(snapshot, this.mapping);
    return this.crm.upsertLead(snapshot.leadId, fields).then((result) => ({ ...result, fields }));
  }
}
