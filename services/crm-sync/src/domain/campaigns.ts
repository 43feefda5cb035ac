// Which CRM campaign a lead joins: the one its form names, or the one its utm_campaign maps to in
// the versioned campaign mapping (mappings/campaigns.v*.yaml). Pure: no I/O.
import type { CrmName, MappingIssue } from './field-mapping.js';

export interface CampaignMapping {
  version: number;
  /** The member status a form fill is written with (Salesforce CampaignMember.Status). */
  memberStatus: string;
  /** utm_campaign, lower case -> the campaign's id in each CRM. */
  campaigns: ReadonlyMap<string, Partial<Record<CrmName, string>>>;
}

export type CampaignChoice =
  | { campaignId: string; source: string }
  | { issue: MappingIssue }
  | undefined;

export class CampaignMappingError extends Error {
  override readonly name = 'CampaignMappingError';
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
  }
}

/** What each CRM's campaign ids look like: a Salesforce Campaign Id (prefix 701), a HubSpot list id. */
export const CAMPAIGN_ID: Record<CrmName, RegExp> = {
  salesforce: /^701[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/,
  hubspot: /^[0-9]{1,20}$/,
};

const CRM_LABEL: Record<CrmName, string> = { salesforce: 'Salesforce Campaign Id', hubspot: 'HubSpot list id' };

/**
 * The form's own campaign id wins; else utm_campaign through the mapping. A campaign that cannot be
 * resolved is an issue (CAMPAIGN_UNKNOWN) for the sync to report, never a reason to hold the lead.
 */
export function chooseCampaign(source: { campaignId?: string | undefined; utmCampaign?: string | undefined }, mapping: CampaignMapping, crm: CrmName): CampaignChoice {
  const explicit = source.campaignId?.trim();
  if (explicit) {
    if (CAMPAIGN_ID[crm].test(explicit)) return { campaignId: explicit, source: 'form' };
    return { issue: { code: 'CAMPAIGN_UNKNOWN', field: 'campaign', message: `the form's campaign_id "${explicit}" is not a ${CRM_LABEL[crm]}; no campaign membership was made` } };
  }
  const utm = source.utmCampaign?.trim().toLowerCase();
  if (!utm) return undefined;
  const id = mapping.campaigns.get(utm)?.[crm];
  if (id) return { campaignId: id, source: `utm_campaign:${utm}` };
  return { issue: { code: 'CAMPAIGN_UNKNOWN', field: 'campaign', message: `utm_campaign "${utm}" maps to no ${crm} campaign in campaign mapping v${mapping.version}; no campaign membership was made` } };
}

/** Validates `{ version, memberStatus, campaigns: { <utm_campaign>: { salesforce, hubspot } } }`. */
export function parseCampaignMapping(raw: unknown): CampaignMapping {
  const doc = asObject(raw, '$');
  if (typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 1) throw new CampaignMappingError('version', 'must be a positive integer');
  if (typeof doc.memberStatus !== 'string' || doc.memberStatus.trim() === '') throw new CampaignMappingError('memberStatus', 'must name the member status, e.g. Responded');
  const campaigns = new Map<string, Partial<Record<CrmName, string>>>();
  for (const [utm, ids] of Object.entries(asObject(doc.campaigns, 'campaigns'))) {
    const key = utm.trim().toLowerCase();
    if (key === '' || campaigns.has(key)) throw new CampaignMappingError(`campaigns.${utm}`, 'must be a distinct, non-empty utm_campaign');
    const entry: Partial<Record<CrmName, string>> = {};
    for (const [crm, id] of Object.entries(asObject(ids, `campaigns.${utm}`))) {
      if (crm !== 'salesforce' && crm !== 'hubspot') throw new CampaignMappingError(`campaigns.${utm}.${crm}`, 'must be salesforce or hubspot');
      const text = typeof id === 'number' && Number.isInteger(id) ? String(id) : id;
      if (typeof text !== 'string' || !CAMPAIGN_ID[crm].test(text)) throw new CampaignMappingError(`campaigns.${utm}.${crm}`, `"${String(id)}" is not a ${CRM_LABEL[crm]}`);
      entry[crm] = text;
    }
    campaigns.set(key, entry);
  }
  return { version: doc.version, memberStatus: doc.memberStatus.trim(), campaigns };
}

function asObject(raw: unknown, path: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CampaignMappingError(path, 'must be a mapping (an object)');
  return raw as Record<string, unknown>;
}
