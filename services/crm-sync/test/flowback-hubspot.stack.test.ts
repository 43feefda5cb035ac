// Changes flow back from HubSpot (the CRM simulator, a test fixture, standing in), on the real NATS
// and FerretDB with all five services: HubSpot's signed webhooks tell crm-sync first, polling by
// lastmodifieddate catches what no webhook brought, and routing follows the rep.
import { findTraces } from '../../../test/harness/jaeger.ts';
import { httpUrl } from '../../../test/harness/stack.ts';
import { signHubspotRequest } from '../../../test/fixtures/crm-simulator/index.ts';
import { contactsOf, editAsSales, eventually, startCrmStack, submitLead, syncedRecord, type CrmStack } from './stack-support.js';

const OFFSET = 340;
const APP_SECRET = 'sim-hubspot-app-secret';
const webhookUrl = () => `${httpUrl('crm-sync', OFFSET)}/v1/hubspot/webhooks`;
let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack(
    'crm-sync-flowback-hs',
    OFFSET,
    { CRM_PROVIDER: 'hubspot', ROUTING_SLA_SECONDS: '30', ROUTING_SLA_SCAN_MS: '1000' },
    undefined,
    { 'crm-sync': { HUBSPOT_APP_SECRET: APP_SECRET, CRM_CHANGE_POLL_MS: '1000' } },
  );
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

async function ownerOtherThan(...ownerIds: string[]) {
  const { owners } = await stack.routing.listOwners({});
  return owners.find((o) => !ownerIds.includes(o.ownerId) && o.active && o.crmUserIds?.hubspotOwnerId)!;
}

const assignmentOf = async (leadId: string) => (await stack.routing.getAssignment({ leadId })).assignment!;

describe('changes flow back from HubSpot', () => {
  it("a rep's reassignment and acceptance in HubSpot reach routing by signed webhook", async () => {
    stack.sim.subscribeHubspotWebhooks({ targetUrl: webhookUrl(), clientSecret: APP_SECRET, properties: ['hubspot_owner_id', 'hs_lead_status'] });
    try {
      const { leadId } = await submitLead(stack, 'hs-reassign');
      const { crmId } = await syncedRecord(stack, leadId);
      const next = await ownerOtherThan((await assignmentOf(leadId)).ownerId);

      await editAsSales(stack.sim, 'hubspot', crmId, { hubspot_owner_id: next.crmUserIds!.hubspotOwnerId });
      const moved = await eventually('routing follows the HubSpot owner', async () => {
        const assignment = await assignmentOf(leadId);
        return assignment.ownerId === next.ownerId ? assignment : undefined;
      });
      expect(moved).toMatchObject({ ruleId: 'crm:hubspot', ownerName: next.name });
      const delivered = stack.sim.hubspotWebhookDeliveries().find((d) => d.events.some((e) => e.objectId === Number(crmId) && e.propertyName === 'hubspot_owner_id' && e.changeSource === 'CRM_UI'));
      expect(delivered?.status).toBe(200);
      await eventually("leadmesh's fields follow the new owner in HubSpot", () => (contactsOf(stack.sim, leadId)[0]?.properties.hubspot_owner_id === next.crmUserIds!.hubspotOwnerId ? true : undefined));

      await editAsSales(stack.sim, 'hubspot', crmId, { hs_lead_status: 'IN_PROGRESS' });
      const accepted = await eventually('routing records the acceptance', async () => {
        const assignment = await assignmentOf(leadId);
        return assignment.acceptedAt ? assignment : undefined;
      });
      expect(accepted.ownerId).toBe(next.ownerId);
      const { record } = await stack.crmSync.getSyncStatus({ leadId });
      expect(record!.crmChanges).toEqual([
        expect.objectContaining({ crmOwnerId: next.crmUserIds!.hubspotOwnerId, accepted: false }),
        expect.objectContaining({ crmStatus: 'IN_PROGRESS', accepted: true }),
      ]);
      const journey = await stack.intake.getLeadJourney({ leadId });
      expect(journey.steps.map((s) => s.summary)).toEqual(expect.arrayContaining([expect.stringMatching(/^Reassigned by sales in the CRM to /), expect.stringMatching(/^Accepted by sales in the CRM \(status IN_PROGRESS\)/)]));
      // Each change taken back is the root of a trace of its own, linked to the webhook request that
      // brought it, and the trace goes on into routing's handling of crm.lead_changed.
      const traces = await eventually('the webhook change traces in Jaeger', async () => {
        const found = await findTraces('crm-sync', 'crm change', { 'leadmesh.lead_id': leadId, 'leadmesh.crm_change.via': 'webhook' });
        return found.length >= 1 && found.every((t) => Object.values(t.processes).some((p) => p.serviceName === 'routing')) ? found : undefined;
      });
      for (const trace of traces) {
        const root = trace.spans.find((span) => span.operationName === 'crm change')!;
        expect(root.references?.filter((r) => r.refType === 'CHILD_OF')).toEqual([]);
        expect(root.references).toEqual(expect.arrayContaining([expect.objectContaining({ refType: 'FOLLOWS_FROM' })]));
      }
    } finally {
      stack.sim.subscribeHubspotWebhooks(undefined);
    }
  }, 120_000);

  it('without webhooks, polling by lastmodifieddate takes the acceptance back, and it stops the SLA re-route', async () => {
    const { leadId: acceptedLead } = await submitLead(stack, 'hs-accept');
    const { leadId: ignoredLead } = await submitLead(stack, 'hs-ignored');
    const { crmId } = await syncedRecord(stack, acceptedLead);
    await syncedRecord(stack, ignoredLead);
    const before = await assignmentOf(acceptedLead);

    await editAsSales(stack.sim, 'hubspot', crmId, { hs_lead_status: 'CONNECTED' });
    await eventually('routing records the acceptance', async () => ((await assignmentOf(acceptedLead)).acceptedAt ? true : undefined));
    const { record } = await stack.crmSync.getSyncStatus({ leadId: acceptedLead });
    expect(record!.crmChanges).toEqual([expect.objectContaining({ crmStatus: 'CONNECTED', accepted: true, via: 'poll' })]);

    // Submitted after it, the other lead is due later: once it is re-routed, the accepted one's SLA has passed too.
    await eventually('the lead nobody accepted is re-routed', async () => ((await assignmentOf(ignoredLead)).previousOwnerIds.length ? true : undefined), 90_000);
    expect(await assignmentOf(acceptedLead)).toMatchObject({ ownerId: before.ownerId, previousOwnerIds: [] });
  }, 150_000);

  it('refuses webhook calls without a valid, fresh v3 signature', async () => {
    const { leadId } = await submitLead(stack, 'hs-forged');
    const { crmId } = await syncedRecord(stack, leadId);
    const body = JSON.stringify([{ eventId: 1, subscriptionType: 'contact.propertyChange', objectId: Number(crmId), propertyName: 'hs_lead_status', propertyValue: 'IN_PROGRESS', occurredAt: Date.now() }]);
    const post = (headers: Record<string, string>) => fetch(webhookUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    const now = String(Date.now());
    const stale = String(Date.now() - 6 * 60_000);
    expect(await post({})).toBe(401);
    expect(await post({ 'x-hubspot-signature-v3': signHubspotRequest('not-the-secret', 'POST', webhookUrl(), body, now), 'x-hubspot-request-timestamp': now })).toBe(401);
    expect(await post({ 'x-hubspot-signature-v3': signHubspotRequest(APP_SECRET, 'POST', webhookUrl(), body, stale), 'x-hubspot-request-timestamp': stale })).toBe(401);
    // Signed and fresh, it is heard; the contact holds no change from sales, so nothing is taken back.
    const answer = await fetch(webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signHubspotRequest(APP_SECRET, 'POST', webhookUrl(), body, now), 'x-hubspot-request-timestamp': now },
      body,
    });
    expect({ status: answer.status, body: await answer.json() }).toEqual({ status: 200, body: { contacts: 1, taken: 0 } });
  }, 60_000);
});
