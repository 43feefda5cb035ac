// crm-sync's use case (LeadSync) against the real FerretDB and the CRM simulator (a test fixture), for
// both CRMs, without the other services: the lead's state is handed over as the events would carry it.
// What sales sees in the CRM: the routed owner, campaign membership once, a rep's edit kept, a
// converted Lead followed.
import { randomUUID } from 'node:crypto';
import { create, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { lead } from '@leadmesh/contracts';
import { Metrics, createLogger } from '@leadmesh/platform';
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { keptInOutbox, testStore } from '../../../test/harness/store.ts';
import { loadCampaignMapping, loadFieldMapping } from '../src/crm/mapping-files.js';
import { CrmGateway } from '../src/crm.gateway.js';
import { DeadLetterStore } from '../src/dead-letter.store.js';
import type { LeadState } from '../src/domain/lead-state.js';
import { LeadSync, type SyncCause } from '../src/lead-sync.js';
import { SyncStore } from '../src/sync.store.js';
import { hubspotAdapter, salesforceAdapter, startSimulator } from './support.js';

const db = testStore('crm-lead-sync');
const logger = createLogger('crm-lead-sync', 'silent');
let sim: CrmSimulator;
let store: SyncStore;
let deadLetters: DeadLetterStore;

beforeAll(async () => {
  await db.start();
  sim = await startSimulator();
  store = new SyncStore(db.store, keptInOutbox);
  deadLetters = new DeadLetterStore(db.store, keptInOutbox, new Metrics('crm-lead-sync-dead-letters'), logger);
}, 60_000);

afterAll(async () => {
  await sim.close();
  await db.stop();
});

beforeEach(() => sim.reset());

async function leadSyncFor(crm: 'salesforce' | 'hubspot'): Promise<LeadSync> {
  const adapter = crm === 'salesforce' ? salesforceAdapter(sim, { autoAssign: false }) : hubspotAdapter(sim);
  const gateway = new CrmGateway(adapter, await loadFieldMapping(crm), undefined, 4);
  gateway.campaigns = await loadCampaignMapping();
  return new LeadSync(store, deadLetters, gateway, new Metrics(`crm-lead-sync-${crm}-${randomUUID()}`), logger);
}

const minutes = (n: number) => new Date(Date.UTC(2026, 10, 27, 10, n));
const owners = {
  avery: { ownerId: 'avery-chen', ownerName: 'Avery Chen', ownerEmail: 'avery.chen@leadmesh.example', ownerCrmUserIds: { salesforceUserId: '005Dn00000LMO01AAA', hubspotOwnerId: '81234567' } },
  marcus: { ownerId: 'marcus-reed', ownerName: 'Marcus Reed', ownerEmail: 'marcus.reed@leadmesh.example', ownerCrmUserIds: { salesforceUserId: '005Dn00000LMO02AAA', hubspotOwnerId: '81234568' } },
  newHire: { ownerId: 'new-hire', ownerName: 'New Hire', ownerEmail: '', ownerCrmUserIds: { salesforceUserId: '', hubspotOwnerId: '' } },
};

/** What lead.routed / lead.reassigned / lead.scored deliver of a lead, as crm-sync keeps it. */
function delivered(leadId: string, email: string, parts: { owner?: keyof typeof owners; assignedAt?: number; engagement?: number; scoredAt?: number; utmCampaign?: string; campaignId?: string; stage?: 'lead' | 'mql'; unsubscribedAt?: number }): LeadState {
  const profile = create(lead.LeadProfileSchema, {
    contact: { email, firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'DE' },
    source: { formId: 'contact-sales', utmSource: 'google', utmMedium: 'cpc', utmCampaign: parts.utmCampaign ?? 'spring', campaignId: parts.campaignId ?? '' },
    consent: { emailMarketing: true },
    receivedAt: timestampFromDate(minutes(0)),
  });
  const score = create(lead.LeadScoreSchema, {
    leadId,
    fitScore: 70,
    engagementScore: parts.engagement ?? 10,
    grade: 'A2',
    lifecycleStage: parts.stage === 'mql' ? lead.LifecycleStage.MQL : lead.LifecycleStage.LEAD,
    ruleSetVersion: '2026-11-01.1',
    scoredAt: timestampFromDate(minutes(parts.scoredAt ?? 1)),
  });
  const state: LeadState = {
    receivedAt: minutes(0),
    profile: { value: toJson(lead.LeadProfileSchema, profile) as Record<string, unknown>, at: minutes(parts.scoredAt ?? 1) },
    score: { value: toJson(lead.LeadScoreSchema, score) as Record<string, unknown>, at: minutes(parts.scoredAt ?? 1) },
  };
  if (parts.owner) {
    const assignment = create(lead.AssignmentSchema, { leadId, teamId: 'enterprise-na', ruleId: 'enterprise-na', ...owners[parts.owner], assignedAt: timestampFromDate(minutes(parts.assignedAt ?? 2)) });
    state.assignment = { value: toJson(lead.AssignmentSchema, assignment) as Record<string, unknown>, at: minutes(parts.assignedAt ?? 2) };
  }
  if (parts.unsubscribedAt !== undefined) state.unsubscribedAt = minutes(parts.unsubscribedAt);
  return state;
}

const cause = (state: LeadState, subject = 'leadmesh.lead.routed'): SyncCause => ({ eventId: randomUUID(), subject, state });
const routed = { onlyIfRouted: false, lastTry: false };
const update = { onlyIfRouted: true, lastTry: false };
const newLead = () => ({ leadId: randomUUID(), email: `ada.${randomUUID().slice(0, 8)}@example-analytics.com` });

describe('LeadSync with Salesforce', () => {
  it('sets OwnerId from the routed owner, moves it on a reassignment, and reports an owner with no Salesforce user', async () => {
    const sync = await leadSyncFor('salesforce');
    const { leadId, email } = newLead();
    expect(await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery' })), routed)).toBe('synced');
    const [record] = sim.records('salesforce');
    expect(record).toMatchObject({ Leadmesh_Lead_Id__c: leadId, OwnerId: '005Dn00000LMO01AAA', Leadmesh_Owner_Email__c: 'avery.chen@leadmesh.example' });

    expect(await sync.run(leadId, cause(delivered(leadId, email, { owner: 'marcus', assignedAt: 5 }), 'leadmesh.lead.reassigned'), update)).toBe('synced');
    expect(sim.records('salesforce')[0]?.OwnerId).toBe('005Dn00000LMO02AAA');

    expect(await sync.run(leadId, cause(delivered(leadId, email, { owner: 'newHire', assignedAt: 6 }), 'leadmesh.lead.reassigned'), update)).toBe('synced');
    expect(sim.records('salesforce')[0]).toMatchObject({ OwnerId: '005Dn00000LMO02AAA', Leadmesh_Owner_Name__c: 'New Hire' });
    const stored = await store.find(leadId);
    expect(stored).toMatchObject({ status: 'SYNCED', issues: [{ code: 'OWNER_NOT_MAPPED', field: 'OwnerId', message: expect.stringContaining('"new-hire"') }] });
    expect(sim.records('salesforce')).toHaveLength(1);
  });

  it("keeps a rep's edits (company, status, owner) through a rescore and a reassignment, while leadmesh's own fields move", async () => {
    const sync = await leadSyncFor('salesforce');
    const { leadId, email } = newLead();
    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery' })), routed);
    const crmId = sim.records('salesforce')[0]!.Id;
    await repEdit('salesforce', crmId, { Company: 'Example Analytics GmbH', Status: 'Closed - Not Converted', OwnerId: '005Dn00000REP01AAA' });

    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'marcus', assignedAt: 5, engagement: 40, scoredAt: 4, stage: 'mql' }), 'leadmesh.lead.reassigned'), update);
    expect(sim.records('salesforce')[0]).toMatchObject({
      Company: 'Example Analytics GmbH',
      Status: 'Closed - Not Converted',
      OwnerId: '005Dn00000REP01AAA',
      Engagement_Score__c: 40,
      Leadmesh_Owner_Name__c: 'Marcus Reed',
    });
    // An unsubscribe is an opt-out leadmesh always brings to the CRM.
    await sync.run(leadId, cause({ unsubscribedAt: minutes(9) }, 'leadmesh.lead.unsubscribed'), update);
    expect(sim.records('salesforce')[0]?.HasOptedOutOfEmail).toBe(true);
  });

  it('makes the lead a CampaignMember once, and reports an unknown campaign while the lead goes through', async () => {
    const sync = await leadSyncFor('salesforce');
    const { leadId, email } = newLead();
    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery' })), routed);
    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery', engagement: 30, scoredAt: 3 }), 'leadmesh.lead.scored'), update);
    const crmId = sim.records('salesforce')[0]!.Id;
    expect(sim.campaignMembers('salesforce')).toEqual([expect.objectContaining({ CampaignId: '701Dn00000SPRNGAAA', LeadId: crmId, Status: 'Responded' })]);
    expect((await store.find(leadId))?.campaigns).toEqual([expect.objectContaining({ campaignId: '701Dn00000SPRNGAAA', source: 'utm_campaign:spring' })]);

    const other = newLead();
    expect(await sync.run(other.leadId, cause(delivered(other.leadId, other.email, { owner: 'avery', utmCampaign: 'winter-gala' })), routed)).toBe('synced');
    expect(await store.find(other.leadId)).toMatchObject({ status: 'SYNCED', issues: [expect.objectContaining({ code: 'CAMPAIGN_UNKNOWN' })] });
    expect(sim.campaignMembers('salesforce')).toHaveLength(1);
  });

  it('follows a converted Lead to its Contact: no second Lead, no dead letter', async () => {
    const sync = await leadSyncFor('salesforce');
    const { leadId, email } = newLead();
    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery' })), routed);
    const crmId = sim.records('salesforce')[0]!.Id;
    const contactId = sim.convertSalesforceLead(crmId);
    expect(await sync.run(leadId, cause({ unsubscribedAt: minutes(9) }, 'leadmesh.lead.unsubscribed'), update)).toBe('synced');
    expect(sim.salesforceContacts()).toEqual([expect.objectContaining({ Id: contactId, HasOptedOutOfEmail: true })]);
    expect(await store.find(leadId)).toMatchObject({ status: 'SYNCED', crmId, converted: { contactId, rule: 'follow' } });
    // Later updates go straight to the Contact, and a rescore (nothing a Contact holds) writes nothing.
    const before = sim.counters().requests;
    expect(await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery', engagement: 50, scoredAt: 8, unsubscribedAt: 9 }), 'leadmesh.lead.scored'), update)).toBe('synced');
    expect(sim.requests().slice(before).filter((r) => r.method === 'PATCH' && r.path.includes('/sobjects/Lead/'))).toEqual([]);
    expect(sim.records('salesforce')).toHaveLength(1);
    expect(await deadLetters.find(leadId)).toBeUndefined();
  });
});

describe('LeadSync with HubSpot', () => {
  it('sets hubspot_owner_id, keeps a rep’s company and lead status, and joins the campaign list once', async () => {
    const sync = await leadSyncFor('hubspot');
    const { leadId, email } = newLead();
    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'avery' })), routed);
    const [contact] = sim.records('hubspot');
    expect(contact?.properties).toMatchObject({ hubspot_owner_id: '81234567', hs_lead_status: 'NEW' });
    await repEdit('hubspot', contact!.id, { company: 'Example Analytics GmbH', hs_lead_status: 'IN_PROGRESS' });

    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'marcus', assignedAt: 5, engagement: 40, scoredAt: 4, stage: 'mql' }), 'leadmesh.lead.reassigned'), update);
    expect(sim.records('hubspot')[0]?.properties).toMatchObject({
      company: 'Example Analytics GmbH',
      hs_lead_status: 'IN_PROGRESS',
      hubspot_owner_id: '81234568',
      leadmesh_engagement_score: '40',
    });
    expect(sim.campaignMembers('hubspot')).toEqual([{ CampaignId: '3101', LeadId: contact!.id }]);
    await sync.run(leadId, cause(delivered(leadId, email, { owner: 'newHire', assignedAt: 6, engagement: 40, scoredAt: 4, stage: 'mql' }), 'leadmesh.lead.reassigned'), update);
    expect(await store.find(leadId)).toMatchObject({ issues: [expect.objectContaining({ code: 'OWNER_NOT_MAPPED', field: 'hubspot_owner_id' })] });
    expect(sim.records('hubspot')).toHaveLength(1);
  });
});

/** A rep's edit through the CRM's own REST API (the simulator's, as Salesforce or HubSpot answers it). */
async function repEdit(crm: 'salesforce' | 'hubspot', id: string, fields: Record<string, unknown>): Promise<void> {
  if (crm === 'hubspot') {
    const r = await fetch(`${sim.url}/crm/v3/objects/contacts/${id}`, { method: 'PATCH', headers: { authorization: 'Bearer sim-hubspot-token', 'content-type': 'application/json' }, body: JSON.stringify({ properties: fields }) });
    expect(r.status).toBe(200);
    return;
  }
  const token = (await (await fetch(`${sim.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=sim-client-id&client_secret=sim-client-secret' })).json()) as { access_token: string };
  const r = await fetch(`${sim.url}/services/data/v62.0/sobjects/Lead/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(fields) });
  expect(r.status).toBe(204);
}
