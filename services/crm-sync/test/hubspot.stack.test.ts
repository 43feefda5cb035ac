// crm-sync with HubSpot as the CRM (the simulator, a test fixture, standing in), on the real NATS and
// FerretDB with the four upstream services running: what sales sees on the contact.
import { randomUUID } from 'node:crypto';
import { crmsync, intake } from '@leadmesh/contracts';
import { campaignPart, contactsOf, editAsSales, eventually, reassignTo, startCrmStack, submitLead, syncedRecord, type CrmStack } from './stack-support.js';

let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack('crm-sync-hubspot', 320, { CRM_PROVIDER: 'hubspot' });
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

describe('crm-sync against the HubSpot simulator', () => {
  it("makes the routed owner the contact's hubspot_owner_id, moves it on a reassignment, and names an owner with no HubSpot user", async () => {
    const { leadId } = await submitLead(stack, 'hs-owner');
    const first = await syncedRecord(stack, leadId);
    const { assignment } = await stack.routing.getAssignment({ leadId });
    const { owners } = await stack.routing.listOwners({});
    const routed = owners.find((o) => o.ownerId === assignment!.ownerId)!;
    expect(routed.crmUserIds?.hubspotOwnerId).toMatch(/^\d+$/);
    await eventually('hubspot_owner_id set to the routed owner', () =>
      contactsOf(stack.sim, leadId)[0]?.properties.hubspot_owner_id === routed.crmUserIds!.hubspotOwnerId ? true : undefined,
    );

    const next = owners.find((o) => o.ownerId !== routed.ownerId && o.crmUserIds?.hubspotOwnerId)!;
    await reassignTo(stack, leadId, { ownerId: next.ownerId, name: next.name, email: next.email, crmUserIds: next.crmUserIds! });
    await eventually('hubspot_owner_id moved to the new owner', () =>
      contactsOf(stack.sim, leadId)[0]?.properties.hubspot_owner_id === next.crmUserIds!.hubspotOwnerId ? true : undefined,
    );

    await reassignTo(stack, leadId, { ownerId: 'new-hire', name: 'New Hire' });
    const record = await eventually('the unmapped owner reported', async () => {
      const { record } = await stack.crmSync.getSyncStatus({ leadId });
      return record?.issues.length ? record : undefined;
    });
    expect(record).toMatchObject({ status: crmsync.SyncStatus.SYNCED, crmId: first.crmId });
    expect(record.issues).toEqual([expect.objectContaining({ code: 'OWNER_NOT_MAPPED', field: 'hubspot_owner_id', message: expect.stringContaining('"new-hire"') })]);
    expect(contactsOf(stack.sim, leadId)).toEqual([expect.objectContaining({ properties: expect.objectContaining({ hubspot_owner_id: next.crmUserIds!.hubspotOwnerId }) })]);
  }, 90_000);

  it("keeps a rep's edits in HubSpot through later syncs: a property sales changed and a lead status moved on", async () => {
    const { leadId } = await submitLead(stack, 'hs-rep-edit');
    const first = await syncedRecord(stack, leadId);
    await editAsSales(stack.sim, 'hubspot', first.crmId, { company: 'Example Analytics GmbH', hs_lead_status: 'IN_PROGRESS' });
    const engagement = () => Number(contactsOf(stack.sim, leadId)[0]?.properties.leadmesh_engagement_score);
    const before = engagement();
    await stack.intake.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.PRICING_PAGE_VIEW, activityId: randomUUID() });
    await eventually('the rescore in the CRM', () => (engagement() > before ? true : undefined));
    expect(contactsOf(stack.sim, leadId)).toEqual([
      expect.objectContaining({ id: first.crmId, properties: expect.objectContaining({ company: 'Example Analytics GmbH', hs_lead_status: 'IN_PROGRESS' }) }),
    ]);
  }, 90_000);

  it('makes a lead with a campaign a member of its HubSpot list exactly once, and shows it in the journey', async () => {
    const { leadId } = await submitLead(stack, 'hs-campaign');
    const synced = await syncedRecord(stack, leadId);
    const { record, steps } = await campaignPart(stack, leadId);
    expect(record.campaignMemberships).toEqual([expect.objectContaining({ campaignId: '3101', source: 'utm_campaign:spring' })]);
    expect(steps).toContain('Member of CRM campaign 3101 (Responded), from utm_campaign spring.');
    const before = Number(contactsOf(stack.sim, leadId)[0]?.properties.leadmesh_engagement_score);
    await stack.intake.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.WEBINAR_ATTENDED, activityId: randomUUID() });
    await eventually('the rescore in the CRM', () => (Number(contactsOf(stack.sim, leadId)[0]?.properties.leadmesh_engagement_score) > before ? true : undefined));
    expect(stack.sim.campaignMembers('hubspot').filter((m) => m.LeadId === synced.crmId)).toEqual([{ CampaignId: '3101', LeadId: synced.crmId }]);
  }, 90_000);
});
