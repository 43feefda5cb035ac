import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { createCrmAdapter } from '../src/crm/create-crm-adapter.js';
import { HubspotAdapter } from '../src/crm/hubspot.adapter.js';
import { listFieldMappingVersions, loadFieldMapping } from '../src/crm/mapping-files.js';
import { FieldMappingConfigError, FieldMappingError, mapLead, mapToCrm, type CrmLeadSnapshot } from '../src/domain/field-mapping.js';
import { fieldsToRead, planUpdate } from '../src/domain/field-ownership.js';
import { hubspotAdapter, salesforceAdapter, startSimulator } from './support.js';

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const snapshot = (overrides: Partial<CrmLeadSnapshot> = {}): CrmLeadSnapshot => ({
  leadId: 'lead-2001',
  contact: { email: 'grace@example.com', firstName: 'Grace', jobTitle: 'VP Engineering', country: 'US' },
  source: { formId: 'contact-sales', utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'spring' },
  consent: { emailMarketing: false },
  score: { fitScore: 82, engagementScore: 40, grade: 'A2', lifecycleStage: 'mql', ruleSetVersion: '4' },
  assignment: { ownerId: 'owner-3', ownerName: 'Alan', ownerEmail: 'alan@example.com', teamId: 'na-west', salesforceUserId: '005Dn00000LMO03AAA', hubspotOwnerId: '51234' },
  nurture: { trackId: 'enterprise-eval' },
  receivedAt: new Date('2025-05-02T08:30:00Z'),
  ...overrides,
});

describe('shipped field mappings, end to end through the simulator', () => {
  it('ships versions 1 to 4 (Salesforce) and 1 to 3 (HubSpot), they validate, and the newest is the one used', async () => {
    expect(await listFieldMappingVersions('salesforce')).toEqual([1, 2, 3, 4]);
    expect(await loadFieldMapping('salesforce')).toMatchObject({ crm: 'salesforce', version: 4 });
    expect(await listFieldMappingVersions('hubspot')).toEqual([1, 2, 3]);
    expect(await loadFieldMapping('hubspot')).toMatchObject({ crm: 'hubspot', version: 3 });
    expect(await loadFieldMapping('salesforce', undefined, 1)).toMatchObject({ crm: 'salesforce', version: 1 });
  });

  it('lands a mapped lead in Salesforce with the placeholders Salesforce requires', async () => {
    const mapping = await loadFieldMapping('salesforce');
    const fields = mapToCrm(snapshot(), mapping);
    await salesforceAdapter(sim).upsertLead('lead-2001', fields);
    expect(sim.records('salesforce')[0]).toMatchObject({
      Leadmesh_Lead_Id__c: 'lead-2001',
      Email: 'grace@example.com',
      LastName: '[not provided]',
      Company: '[not provided]',
      Title: 'VP Engineering',
      LeadSource: 'Advertisement',
      HasOptedOutOfEmail: true,
      Lead_Grade__c: 'A2',
      Fit_Score__c: 82,
      Status: 'Working - Contacted',
      OwnerId: '005Dn00000LMO03AAA',
      Leadmesh_Owner_Email__c: 'alan@example.com',
      Nurture_Track__c: 'enterprise-eval',
      Leadmesh_Received_At__c: '2025-05-02T08:30:00.000Z',
    });
  });

  it('lands a mapped lead in HubSpot with the owner the assignment carries', async () => {
    const mapping = await loadFieldMapping('hubspot');
    const fields = mapToCrm(snapshot(), mapping);
    await hubspotAdapter(sim).upsertLead('lead-2001', fields);
    expect(sim.records('hubspot')[0]?.properties).toMatchObject({
      email: 'grace@example.com',
      leadmesh_lead_id: 'lead-2001',
      hubspot_owner_id: '51234',
      hs_lead_status: 'OPEN',
      leadmesh_grade: 'A2',
      leadmesh_email_consent: 'false',
    });
  });

  it('syncs a lead whose owner has no CRM user without the owner field, and names the owner in an OWNER_NOT_MAPPED issue', async () => {
    const unmapped = snapshot({ assignment: { ownerId: 'owner-9', ownerName: 'Nobody', teamId: 'na-west' } });
    for (const [crm, field] of [['salesforce', 'OwnerId'], ['hubspot', 'hubspot_owner_id']] as const) {
      const { fields, issues } = mapLead(unmapped, await loadFieldMapping(crm));
      expect(fields).not.toHaveProperty(field);
      expect(fields).toHaveProperty(crm === 'salesforce' ? 'Email' : 'email', 'grace@example.com');
      expect(issues).toEqual([{ code: 'OWNER_NOT_MAPPED', field, message: expect.stringContaining('assignment.ownerId "owner-9"') }]);
    }
    // A lead not routed yet has no owner to miss.
    expect(mapLead(snapshot({ assignment: undefined }), await loadFieldMapping('salesforce')).issues).toEqual([]);
    // Salesforce stores it as the record's owner: the lead reaches the CRM under its previous owner.
    await salesforceAdapter(sim).upsertLead('lead-2001', mapLead(unmapped, await loadFieldMapping('salesforce')).fields);
    expect(sim.records('salesforce')[0]).toMatchObject({ Leadmesh_Lead_Id__c: 'lead-2001', Leadmesh_Owner_Name__c: 'Nobody' });
  });

  it('names the field and the lead when a lead cannot be mapped', async () => {
    const hubspot = await loadFieldMapping('hubspot', undefined, 1);
    const err = (() => {
      try {
        mapToCrm(snapshot(), hubspot, () => undefined);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FieldMappingError);
    expect(err).toMatchObject({ leadId: 'lead-2001', field: 'assignment.ownerId', crmField: 'hubspot_owner_id' });
    expect((err as Error).message).toBe('lead lead-2001: field assignment.ownerId -> hubspot_owner_id: owner "owner-3" has no CRM user');

    const salesforce = await loadFieldMapping('salesforce');
    expect(() => mapToCrm(snapshot({ contact: { email: ' ' } }), salesforce)).toThrow('lead lead-2001: field contact.email -> Email: required value is missing');
  });

  it('refuses a mapping file whose content disagrees with its name, naming the file and path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mappings-'));
    await writeFile(join(dir, 'hubspot.v2.yaml'), 'version: 2\ncrm: hubspot\nfields:\n  - { from: contact.email, to: email, direction: SIDEWAYS }\n');
    await expect(loadFieldMapping('hubspot', dir)).rejects.toThrow(FieldMappingConfigError);
    await expect(loadFieldMapping('hubspot', dir)).rejects.toThrow(/hubspot\.v2\.yaml: fields\[0\]\.direction: must be one of/);
    await writeFile(join(dir, 'salesforce.v3.yaml'), 'version: 2\ncrm: salesforce\nfields:\n  - { from: contact.email, to: Email, direction: TO_CRM }\n');
    await expect(loadFieldMapping('salesforce', dir)).rejects.toThrow(/salesforce\.v3\.yaml: version: says 2/);
  });
});

describe('field ownership, end to end through the simulator', () => {
  const update = async (crm: 'salesforce' | 'hubspot', adapter: { readLead(id: string, f: string[]): Promise<Record<string, unknown>>; upsertLead(l: string, f: Record<string, unknown>): Promise<{ crmId: string }> }, salesEdit: (id: string) => Promise<void>) => {
    const mapping = await loadFieldMapping(crm);
    const lead = snapshot({ contact: { email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper', company: 'Navy', country: 'US' } });
    const firstFields = mapToCrm({ ...lead, score: { ...lead.score!, lifecycleStage: 'lead' } }, mapping);
    const { crmId } = await adapter.upsertLead('lead-2001', firstFields);
    await salesEdit(crmId);
    // leadmesh's next state: a rescore to MQL and a new company from a second form fill.
    const desired = mapToCrm({ ...lead, contact: { ...lead.contact, company: 'US Navy' } }, mapping);
    const toRead = fieldsToRead(desired, mapping, firstFields);
    const plan = planUpdate(desired, mapping, firstFields, await adapter.readLead(crmId, toRead));
    await adapter.upsertLead('lead-2001', plan.send);
    return { toRead, plan };
  };

  it("Salesforce: reads the fields leadmesh would change and keeps the rep's company and status", async () => {
    const crm = salesforceAdapter(sim);
    const { toRead, plan } = await update('salesforce', crm, async (id) => {
      const token = await fetch(`${sim.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=sim-client-id&client_secret=sim-client-secret' }).then((r) => r.json() as Promise<{ access_token: string }>);
      const edit = await fetch(`${sim.url}/services/data/v62.0/sobjects/Lead/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ Company: 'Naval Reserve', Status: 'Closed - Converted' }) });
      expect(edit.status).toBe(204);
    });
    expect(toRead.sort()).toEqual(['Company', 'Status']);
    expect(plan.kept).toEqual(expect.arrayContaining([{ field: 'Company', reason: 'sales-edit' }, { field: 'Status', reason: 'not-forward' }]));
    expect(sim.records('salesforce')).toEqual([expect.objectContaining({ Company: 'Naval Reserve', Status: 'Closed - Converted', Lead_Grade__c: 'A2' })]);
    expect(sim.records('salesforce')[0]?.SystemModstamp).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*\+0000$/));
  });

  it("HubSpot: reads the properties leadmesh would change and keeps the rep's company and lead status", async () => {
    const crm = hubspotAdapter(sim);
    const { toRead, plan } = await update('hubspot', crm, async (id) => {
      const edit = await fetch(`${sim.url}/crm/v3/objects/contacts/${id}`, { method: 'PATCH', headers: { authorization: 'Bearer sim-hubspot-token', 'content-type': 'application/json' }, body: JSON.stringify({ properties: { company: 'Naval Reserve', hs_lead_status: 'IN_PROGRESS' } }) });
      expect(edit.status).toBe(200);
    });
    expect(toRead.sort()).toEqual(['company', 'hs_lead_status']);
    expect(plan.kept).toEqual(expect.arrayContaining([{ field: 'company', reason: 'sales-edit' }, { field: 'hs_lead_status', reason: 'not-forward' }]));
    expect(sim.records('hubspot')).toEqual([expect.objectContaining({ properties: expect.objectContaining({ company: 'Naval Reserve', hs_lead_status: 'IN_PROGRESS', leadmesh_grade: 'A2' }) })]);
  });

  it('moves a status forward when sales left it where leadmesh put it', async () => {
    const crm = salesforceAdapter(sim);
    const { plan } = await update('salesforce', crm, async () => undefined);
    expect(plan.send).toMatchObject({ Status: 'Working - Contacted', Company: 'US Navy' });
    expect(sim.records('salesforce')[0]).toMatchObject({ Status: 'Working - Contacted', Company: 'US Navy' });
  });
});

describe('createCrmAdapter', () => {
  it('chooses the CRM from CRM_PROVIDER and talks to the configured base URL', async () => {
    const crm = createCrmAdapter({ CRM_PROVIDER: 'hubspot', HUBSPOT_BASE_URL: sim.url, HUBSPOT_TOKEN: 'sim-hubspot-token' });
    expect(crm).toBeInstanceOf(HubspotAdapter);
    await crm.upsertLead('lead-1', { email: 'env@example.com' });
    expect(sim.records('hubspot')).toHaveLength(1);

    const sf = createCrmAdapter({ CRM_PROVIDER: 'salesforce', SALESFORCE_LOGIN_URL: sim.url, SALESFORCE_CLIENT_ID: 'sim-client-id', SALESFORCE_CLIENT_SECRET: 'sim-client-secret', SALESFORCE_AUTO_ASSIGN: 'false' });
    await expect(sf.upsertLead('lead-1', { LastName: 'Env', Company: 'Env Co' })).resolves.toMatchObject({ created: true });
    // Secrets live in private fields, so an accidental log of the adapter shows none.
    expect(JSON.stringify(sf)).not.toContain('sim-client-secret');
  });

  it('names the missing or malformed setting', () => {
    expect(() => createCrmAdapter({ CRM_PROVIDER: 'salesforce', SALESFORCE_CLIENT_ID: 'x' })).toThrow('SALESFORCE_CLIENT_SECRET is required');
    expect(() => createCrmAdapter({ CRM_PROVIDER: 'zoho' })).toThrow('CRM_PROVIDER must be');
    expect(() => createCrmAdapter({ CRM_PROVIDER: 'hubspot', HUBSPOT_TOKEN: 't', HUBSPOT_BURST_LIMIT: 'lots' })).toThrow('HUBSPOT_BURST_LIMIT must be an integer');
  });
});
