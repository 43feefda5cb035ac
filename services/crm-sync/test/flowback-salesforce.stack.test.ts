// Changes flow back from Salesforce (the CRM simulator, a test fixture, standing in), on the real
// NATS and FerretDB with all five services: crm-sync polls Leads by SystemModstamp, and routing,
// which owns assignments, follows a rep's reassignment and records a rep's acceptance.
import { editAsSales, eventually, recordsOf, startCrmStack, submitLead, syncedRecord, type CrmStack } from './stack-support.js';

let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack(
    'crm-sync-flowback-sf',
    330,
    // No overlap: a change before crm-sync's restart is found only from the watermark it stored.
    { ROUTING_SLA_SECONDS: '30', ROUTING_SLA_SCAN_MS: '1000', CRM_CHANGE_POLL_MS: '500', CRM_CHANGE_OVERLAP_MS: '0' },
  );
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

async function ownerOtherThan(...ownerIds: string[]) {
  const { owners } = await stack.routing.listOwners({});
  return owners.find((o) => !ownerIds.includes(o.ownerId) && o.active && o.crmUserIds?.salesforceUserId)!;
}

describe('changes flow back from Salesforce', () => {
  it("a rep's reassignment in Salesforce reaches routing, then the rep's acceptance, each taken back once and shown in the journey", async () => {
    const { leadId: other } = await submitLead(stack, 'sf-other');
    const { crmId: otherCrmId } = await syncedRecord(stack, other);
    const { leadId } = await submitLead(stack, 'sf-reassign');
    const { crmId } = await syncedRecord(stack, leadId);
    const { assignment: routed } = await stack.routing.getAssignment({ leadId });
    const { assignment: otherRouted } = await stack.routing.getAssignment({ leadId: other });
    const next = await ownerOtherThan(routed!.ownerId, otherRouted!.ownerId);

    await editAsSales(stack.sim, 'salesforce', crmId, { OwnerId: next.crmUserIds!.salesforceUserId });
    const moved = await eventually('routing follows the CRM owner', async () => {
      const { assignment } = await stack.routing.getAssignment({ leadId });
      return assignment?.ownerId === next.ownerId ? assignment : undefined;
    });
    expect(moved).toMatchObject({ ownerName: next.name, teamId: next.teamId, ruleId: 'crm:salesforce', previousOwnerIds: [] });
    expect(moved.reason).toContain('Reassigned by sales in salesforce');
    expect(moved.acceptedAt).toBeUndefined();
    // routing's lead.reassigned comes back to crm-sync, which writes the new owner's name and keeps the rep's OwnerId.
    await eventually("leadmesh's fields follow the new owner in Salesforce", () => (recordsOf(stack.sim, leadId)[0]?.Leadmesh_Owner_Name__c === next.name ? true : undefined));
    expect(recordsOf(stack.sim, leadId)[0]?.OwnerId).toBe(next.crmUserIds!.salesforceUserId);

    // Stamped after leadmesh's own write: once it is taken back, that write has been polled too.
    await editAsSales(stack.sim, 'salesforce', crmId, { Status: 'Accepted' });
    const accepted = await eventually('routing records the acceptance', async () => {
      const { assignment } = await stack.routing.getAssignment({ leadId });
      return assignment?.acceptedAt ? assignment : undefined;
    });
    expect(accepted.ownerId).toBe(next.ownerId);

    const { record } = await stack.crmSync.getSyncStatus({ leadId });
    expect(record!.crmChanges).toEqual([
      expect.objectContaining({ crmOwnerId: next.crmUserIds!.salesforceUserId, accepted: false, via: 'poll' }),
      expect.objectContaining({ crmOwnerId: '', crmStatus: 'Accepted', accepted: true, via: 'poll' }),
    ]);
    // crm-sync maps a Salesforce user back to routing's owner once an event showed it that owner
    // (routing maps it from its own owners otherwise): routing's lead.reassigned above showed it
    // this one, so a reassignment of another lead to the same rep is mapped by crm-sync.
    expect(['', next.ownerId]).toContain(record!.crmChanges[0]!.ownerId);
    await editAsSales(stack.sim, 'salesforce', otherCrmId, { OwnerId: next.crmUserIds!.salesforceUserId });
    await eventually('routing follows the CRM owner of the other lead', async () => ((await stack.routing.getAssignment({ leadId: other })).assignment?.ownerId === next.ownerId ? true : undefined));
    const { record: otherRecord } = await stack.crmSync.getSyncStatus({ leadId: other });
    expect(otherRecord!.crmChanges).toEqual([expect.objectContaining({ ownerId: next.ownerId, crmOwnerId: next.crmUserIds!.salesforceUserId })]);
    const journey = await stack.intake.getLeadJourney({ leadId });
    const summaries = journey.steps.map((s) => s.summary);
    expect(summaries).toEqual(expect.arrayContaining([expect.stringMatching(/^Reassigned by sales in the CRM to /), 'Accepted by sales in the CRM (status Accepted); routing told (seen by polling).', `Accepted by ${next.name}.`]));
  }, 120_000);

  it('an acceptance in Salesforce stops the SLA re-route: the lead accepted there stays while one nobody accepted moves on', async () => {
    const { leadId: acceptedLead } = await submitLead(stack, 'sf-accept');
    const { leadId: ignoredLead } = await submitLead(stack, 'sf-ignored');
    const { crmId } = await syncedRecord(stack, acceptedLead);
    await syncedRecord(stack, ignoredLead);
    const { assignment: before } = await stack.routing.getAssignment({ leadId: acceptedLead });

    await editAsSales(stack.sim, 'salesforce', crmId, { Status: 'Accepted' });
    await eventually('routing records the acceptance', async () => ((await stack.routing.getAssignment({ leadId: acceptedLead })).assignment?.acceptedAt ? true : undefined));

    // The lead submitted after it is due later: once that one is re-routed, the accepted one's SLA has passed too.
    await eventually('the lead nobody accepted is re-routed', async () => ((await stack.routing.getAssignment({ leadId: ignoredLead })).assignment?.previousOwnerIds.length ? true : undefined), 90_000);
    const { assignment: after } = await stack.routing.getAssignment({ leadId: acceptedLead });
    expect(after).toMatchObject({ ownerId: before!.ownerId, previousOwnerIds: [] });
    expect(after!.acceptedAt).toBeDefined();
  }, 150_000);

  it("a rep's change made while crm-sync is down is taken back after its restart, from the watermark in its store", async () => {
    const { leadId } = await submitLead(stack, 'sf-restart');
    const { crmId } = await syncedRecord(stack, leadId);
    const { assignment: routed } = await stack.routing.getAssignment({ leadId });
    const next = await ownerOtherThan(routed!.ownerId);
    // Without the stored watermark a fresh process would start from its own start and miss this.
    await stack.restart('crm-sync', () => editAsSales(stack.sim, 'salesforce', crmId, { OwnerId: next.crmUserIds!.salesforceUserId }));
    await eventually('routing follows the CRM owner', async () => ((await stack.routing.getAssignment({ leadId })).assignment?.ownerId === next.ownerId ? true : undefined));
    const { record } = await stack.crmSync.getSyncStatus({ leadId });
    expect(record!.crmChanges).toEqual([expect.objectContaining({ crmOwnerId: next.crmUserIds!.salesforceUserId, via: 'poll' })]);
  }, 150_000);
});
