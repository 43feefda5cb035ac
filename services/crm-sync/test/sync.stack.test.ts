// crm-sync on the real NATS and FerretDB, with the four upstream services running and the CRM
// simulator (a test fixture) standing in for Salesforce: one record per lead, whatever happens to it.
// crm-sync has no route to the other services' gRPC APIs here: it works from the events alone.
import { randomUUID } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, crmsync, events, intake, lead } from '@leadmesh/contracts';
import { EventPublisher, encodeEvent } from '@leadmesh/platform';
import { campaignPart, counterValue, crmSyncMetrics, editAsSales, eventually, reassignTo, recordsOf, startCrmStack, submitLead, syncedRecord, type CrmStack } from './stack-support.js';

let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack('crm-sync-basic', 300);
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => stack.sim.setFaults({ rejectField: undefined }));

const publish = <D extends Parameters<typeof encodeEvent>[1]>(subject: string, schema: D, init: Parameters<typeof encodeEvent<D>>[2]) =>
  new EventPublisher(stack.nats).publish(encodeEvent(subject, schema, init));

/** Every event of the pipeline handled: nothing pending or in hand at any consumer. */
const pipelineAtRest = () =>
  eventually('the pipeline at rest (the enrollment updates handled too)', async () => {
    for await (const consumer of stack.nats.jsm.consumers.list(stack.nats.topology.pipelineStream)) {
      if (consumer.num_pending + consumer.num_ack_pending > 0) return undefined;
    }
    return true;
  });

describe('crm-sync against the CRM simulator', () => {
  it('puts a routed lead in the CRM once, with the mapped fields and the CRM id on its sync record', async () => {
    const { leadId, email } = await submitLead(stack, 'once');
    const record = await syncedRecord(stack, leadId);

    const inCrm = recordsOf(stack.sim, leadId);
    expect(inCrm).toHaveLength(1);
    expect(inCrm[0]).toMatchObject({
      Id: record.crmId,
      Email: email,
      FirstName: 'Ada',
      Company: 'Example Analytics',
      Title: 'VP of Engineering',
      Country: 'DE',
      LeadSource: 'Advertisement',
      UTM_Source__c: 'google',
      UTM_Campaign__c: 'spring',
      HasOptedOutOfEmail: false,
    });
    expect(inCrm[0]!.Lead_Grade__c).toMatch(/^[A-D][1-4]$/);
    expect(typeof inCrm[0]!.Fit_Score__c).toBe('number');
    expect(inCrm[0]!.Leadmesh_Owner_Name__c).toEqual(expect.any(String));
    expect(record.fields.Email).toBe(email);
    // One for lead.routed, and one more when the enrollment arrives after it (the track field changes).
    expect(record.attempts).toBeGreaterThanOrEqual(1);
    expect(record.attempts).toBeLessThanOrEqual(2);
    expect(record.latencyMs).toBeGreaterThan(0n);
    expect(record.leadReceivedAt).toBeDefined();
  }, 90_000);

  it('brings a lead into the CRM with its owner, score and track from the events alone, with no route to the other services', async () => {
    const { leadId } = await submitLead(stack, 'events-only');
    await syncedRecord(stack, leadId);
    // What the owning services hold, asked by the test (crm-sync cannot reach them).
    const { score } = await stack.scoring.getLeadScore({ leadId });
    const { assignment } = await stack.routing.getAssignment({ leadId });
    // The track the lead entered last, as nurture holds it now.
    const latestTrack = async () => {
      const { enrollments } = await stack.nurture.getEnrollments({ leadId });
      const active = enrollments.filter((e) => e.status === lead.EnrollmentStatus.ACTIVE);
      return active.sort((a, b) => Number(b.enrolledAt?.seconds ?? 0n) - Number(a.enrolledAt?.seconds ?? 0n))[0]?.trackId;
    };
    const inCrm = await eventually('owner, score and track in the CRM', async () => {
      const [r] = recordsOf(stack.sim, leadId);
      const track = await latestTrack();
      return r && track && r.Nurture_Track__c === track && r.Leadmesh_Owner_Name__c === assignment?.ownerName && r.Lead_Grade__c === score?.grade ? r : undefined;
    });
    expect(inCrm).toMatchObject({ Leadmesh_Team__c: assignment!.teamId, Fit_Score__c: score!.fitScore, Engagement_Score__c: score!.engagementScore });
    expect(inCrm.Leadmesh_Received_At__c).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/));
    expect(recordsOf(stack.sim, leadId)).toHaveLength(1);
  }, 90_000);

  it('keeps one CRM record through three rescores, a reassignment and an unsubscribe', async () => {
    const { leadId } = await submitLead(stack, 'updates');
    const first = await syncedRecord(stack, leadId);
    const engagement = () => Number(recordsOf(stack.sim, leadId)[0]?.Engagement_Score__c);
    const before = engagement();

    // Three engagement activities: each rescores the lead, and each new score reaches the same record.
    let last = before;
    for (const type of [intake.ActivityType.PRICING_PAGE_VIEW, intake.ActivityType.WEBINAR_ATTENDED, intake.ActivityType.CONTENT_DOWNLOAD]) {
      await stack.intake.recordActivity({ subject: { case: 'leadId', value: leadId }, type, activityId: randomUUID() });
      last = await eventually('the new score in the CRM', () => (engagement() > last ? engagement() : undefined));
    }
    expect(last).toBeGreaterThan(before);

    // A reassignment carries the new owner (and the lead as routing holds it); the unsubscribe only itself.
    const occurredAt = timestampFromDate(new Date());
    const { assignment } = await stack.routing.getAssignment({ leadId });
    const { score } = await stack.scoring.getLeadScore({ leadId });
    const { lead: stored } = await stack.intake.getLead({ leadId });
    await publish(SUBJECTS.leadReassigned, events.LeadReassignedSchema, {
      eventId: randomUUID(),
      leadId,
      occurredAt,
      profile: stored!.profile,
      score: score!,
      assignment: { ...assignment!, ownerId: 'sam-okafor', ownerName: 'Sam Okafor', assignedAt: occurredAt },
      previousOwnerId: assignment!.ownerId,
    });
    await publish(SUBJECTS.leadUnsubscribed, events.LeadUnsubscribedSchema, { eventId: randomUUID(), leadId, occurredAt });
    const record = await eventually('the opt-out stored', async () => {
      const { record } = await stack.crmSync.getSyncStatus({ leadId });
      return record?.fields.HasOptedOutOfEmail === 'true' && record.fields.Leadmesh_Owner_Name__c === 'Sam Okafor' ? record : undefined;
    });
    expect(record).toMatchObject({ crmId: first.crmId, status: crmsync.SyncStatus.SYNCED });

    const inCrm = recordsOf(stack.sim, leadId);
    expect(inCrm).toHaveLength(1);
    expect(inCrm[0]).toMatchObject({ Id: first.crmId, HasOptedOutOfEmail: true, Engagement_Score__c: last, Leadmesh_Owner_Name__c: 'Sam Okafor' });
    // The first sync, three rescores, the reassignment and the unsubscribe each wrote the record.
    expect(record.attempts).toBeGreaterThanOrEqual(6);
    // The first sync's latency (intake to CRM) is kept.
    expect(record.latencyMs).toBe(first.latencyMs);
  }, 90_000);

  it("makes the routed owner the Salesforce record's owner, moves it on a reassignment, and names an owner with no Salesforce user", async () => {
    const { leadId } = await submitLead(stack, 'owner');
    await syncedRecord(stack, leadId);
    const { assignment } = await stack.routing.getAssignment({ leadId });
    const { owners } = await stack.routing.listOwners({});
    const routed = owners.find((o) => o.ownerId === assignment!.ownerId)!;
    expect(routed.crmUserIds?.salesforceUserId).toMatch(/^005/);
    // lead.routed carried the owner's Salesforce user: OwnerId is set, and no assignment rule was asked to override it.
    await eventually('OwnerId set to the routed owner', () => (recordsOf(stack.sim, leadId)[0]?.OwnerId === routed.crmUserIds!.salesforceUserId ? true : undefined));
    const patches = stack.sim.requests().filter((r) => r.method === 'PATCH' && r.crm === 'salesforce');
    expect(patches.at(-1)?.autoAssign).toBe('FALSE');

    // Routing hands the lead to another owner: the record moves with it.
    const next = owners.find((o) => o.ownerId !== routed.ownerId && o.crmUserIds?.salesforceUserId)!;
    await reassignTo(stack, leadId, { ownerId: next.ownerId, name: next.name, email: next.email, crmUserIds: next.crmUserIds! });
    await eventually('OwnerId moved to the new owner', () => (recordsOf(stack.sim, leadId)[0]?.OwnerId === next.crmUserIds!.salesforceUserId ? true : undefined));

    // An owner with no Salesforce user: the lead is still synced (the rest of its fields move), the
    // record keeps its owner, and the sync status, a counter and the log say which owner lacks a user.
    const before = counterValue(await crmSyncMetrics(stack), 'leadmesh_crm_sync_issues_total', { crm: 'salesforce', code: 'OWNER_NOT_MAPPED' });
    await reassignTo(stack, leadId, { ownerId: 'new-hire', name: 'New Hire' });
    const record = await eventually('the unmapped owner reported', async () => {
      const { record } = await stack.crmSync.getSyncStatus({ leadId });
      return record?.issues.length ? record : undefined;
    });
    expect(record).toMatchObject({ status: crmsync.SyncStatus.SYNCED, lastError: '' });
    expect(record.issues).toEqual([expect.objectContaining({ code: 'OWNER_NOT_MAPPED', field: 'OwnerId', message: expect.stringContaining('"new-hire"') })]);
    const [inCrm] = recordsOf(stack.sim, leadId);
    expect(inCrm).toMatchObject({ Leadmesh_Owner_Name__c: 'New Hire', OwnerId: next.crmUserIds!.salesforceUserId });
    expect(counterValue(await crmSyncMetrics(stack), 'leadmesh_crm_sync_issues_total', { crm: 'salesforce', code: 'OWNER_NOT_MAPPED' })).toBeGreaterThan(before);
    expect(recordsOf(stack.sim, leadId)).toHaveLength(1);
  }, 90_000);

  it("keeps a rep's edits in Salesforce through later syncs: fields sales changed, a status moved on, an owner reassigned in the CRM", async () => {
    const { leadId } = await submitLead(stack, 'rep-edit');
    const first = await syncedRecord(stack, leadId);
    await pipelineAtRest();
    // The rep corrects the company, moves the lead to a status leadmesh has no rule for, and takes it over.
    await editAsSales(stack.sim, 'salesforce', first.crmId, { Company: 'Example Analytics GmbH', Status: 'Closed - Not Converted', OwnerId: '005Dn00000REP01AAA' });

    // A rescore syncs the lead again (its engagement score reaches the record) ...
    const engagement = () => Number(recordsOf(stack.sim, leadId)[0]?.Engagement_Score__c);
    const before = engagement();
    await stack.intake.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.PRICING_PAGE_VIEW, activityId: randomUUID() });
    await eventually('the rescore in the CRM', () => (engagement() > before ? true : undefined));
    // ... and routing hands the lead to another owner, which leadmesh would write to OwnerId.
    const { owners } = await stack.routing.listOwners({});
    const { assignment } = await stack.routing.getAssignment({ leadId });
    const next = owners.find((o) => o.ownerId !== assignment!.ownerId && o.crmUserIds?.salesforceUserId)!;
    await reassignTo(stack, leadId, { ownerId: next.ownerId, name: next.name, email: next.email, crmUserIds: next.crmUserIds! });
    await eventually('the reassignment synced', () => (recordsOf(stack.sim, leadId)[0]?.Leadmesh_Owner_Name__c === next.name ? true : undefined));
    await pipelineAtRest();

    expect(recordsOf(stack.sim, leadId)).toEqual([
      expect.objectContaining({ Company: 'Example Analytics GmbH', Status: 'Closed - Not Converted', OwnerId: '005Dn00000REP01AAA', Leadmesh_Owner_Name__c: next.name }),
    ]);
    // The sync record still holds what leadmesh wants, so a later change of its own is written when sales has not touched it.
    const { record } = await stack.crmSync.getSyncStatus({ leadId });
    expect(record!.fields.Company).toBe('Example Analytics');
  }, 90_000);

  it('makes a lead with a campaign exactly one Salesforce CampaignMember (Responded), through rescores, and shows it in the journey', async () => {
    const { leadId } = await submitLead(stack, 'campaign');
    const synced = await syncedRecord(stack, leadId);
    const { record, steps } = await campaignPart(stack, leadId);
    // utm_campaign "spring" through campaign mapping v1.
    expect(record.campaignMemberships).toEqual([expect.objectContaining({ campaignId: '701Dn00000SPRNGAAA', source: 'utm_campaign:spring', status: 'Responded', memberId: expect.stringMatching(/^00v/) })]);
    expect(steps).toContain('Member of CRM campaign 701Dn00000SPRNGAAA (Responded), from utm_campaign spring.');
    // A rescore and a redelivered-looking second membership attempt change nothing: one member per lead and campaign.
    const before = Number(recordsOf(stack.sim, leadId)[0]?.Engagement_Score__c);
    await stack.intake.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.WEBINAR_ATTENDED, activityId: randomUUID() });
    await eventually('the rescore in the CRM', () => (Number(recordsOf(stack.sim, leadId)[0]?.Engagement_Score__c) > before ? true : undefined));
    await pipelineAtRest();
    expect(stack.sim.campaignMembers('salesforce').filter((m) => m.LeadId === synced.crmId)).toEqual([expect.objectContaining({ CampaignId: '701Dn00000SPRNGAAA', Status: 'Responded' })]);

    // The form's own campaign id wins over utm_campaign.
    const named = await submitLead(stack, 'campaign-form', { campaignId: '701Dn00000FORMXAAA' });
    const namedRecord = (await campaignPart(stack, named.leadId)).record;
    expect(namedRecord.campaignMemberships.map((m) => [m.campaignId, m.source])).toEqual([['701Dn00000FORMXAAA', 'form']]);
  }, 90_000);

  it('reports a campaign it cannot map and still puts the lead in the CRM, without a membership', async () => {
    const { leadId } = await submitLead(stack, 'campaign-unknown', { utmCampaign: 'winter-gala' });
    const record = await eventually('the unknown campaign reported', async () => {
      const { record } = await stack.crmSync.getSyncStatus({ leadId });
      return record?.status === crmsync.SyncStatus.SYNCED && record.issues.length ? record : undefined;
    });
    expect(record.issues).toEqual([expect.objectContaining({ code: 'CAMPAIGN_UNKNOWN', message: expect.stringContaining('"winter-gala"') })]);
    expect(record.campaignMemberships).toEqual([]);
    expect(recordsOf(stack.sim, leadId)).toHaveLength(1);
    expect(stack.sim.campaignMembers('salesforce').filter((m) => m.LeadId === record.crmId)).toEqual([]);
    const journey = await stack.intake.getLeadJourney({ leadId });
    expect(journey.pending).toEqual(expect.arrayContaining([expect.stringContaining('CAMPAIGN_UNKNOWN')]));
  }, 90_000);

  it('follows a Lead sales converted to its Contact: later updates go there, never to a second Lead, never into dead letters', async () => {
    const { leadId } = await submitLead(stack, 'converted');
    const first = await syncedRecord(stack, leadId);
    await pipelineAtRest();
    const contactId = stack.sim.convertSalesforceLead(first.crmId);
    // The person unsubscribes: the opt-out must reach sales, now on the Contact.
    await publish(SUBJECTS.leadUnsubscribed, events.LeadUnsubscribedSchema, { eventId: randomUUID(), leadId, occurredAt: timestampFromDate(new Date()) });
    const record = await eventually('the conversion followed', async () => {
      const { record } = await stack.crmSync.getSyncStatus({ leadId });
      return record?.converted?.contactId ? record : undefined;
    });
    expect(record).toMatchObject({ status: crmsync.SyncStatus.SYNCED, crmId: first.crmId, converted: { contactId, rule: 'follow' } });
    await eventually('the opt-out on the Contact', () => (stack.sim.salesforceContacts().find((c) => c.Id === contactId)?.HasOptedOutOfEmail === true ? true : undefined));
    // A rescore afterwards: nothing for the Contact, no error, no second Lead, no dead letter.
    await stack.intake.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.PRICING_PAGE_VIEW, activityId: randomUUID() });
    await pipelineAtRest();
    expect(recordsOf(stack.sim, leadId)).toEqual([expect.objectContaining({ Id: first.crmId, IsConverted: true })]);
    expect((await stack.crmSync.listDeadLetters({ pageSize: 1000 })).deadLetters.map((d) => d.leadId)).not.toContain(leadId);
    expect((await stack.crmSync.getSyncStatus({ leadId })).record).toMatchObject({ status: crmsync.SyncStatus.SYNCED, lastError: '' });
    const journey = await stack.intake.getLeadJourney({ leadId });
    expect(journey.steps.map((s) => s.summary)).toContain(`Converted by sales in the CRM to Contact ${contactId}; later updates go to the Contact.`);
  }, 90_000);

  it('parks a lead the CRM refuses in dead letters with the CRM’s message, and replays it once the rule is fixed', async () => {
    stack.sim.setFaults({ rejectField: 'Title' });
    const { leadId } = await submitLead(stack, 'refused');
    const letter = await eventually('the dead letter', async () => {
      const { deadLetters } = await stack.crmSync.listDeadLetters({ pageSize: 1000 });
      return deadLetters.find((d) => d.leadId === leadId);
    });
    expect(letter.error).toContain('Title: value not accepted by validation rule (simulated)');
    // The other services hear of it through crm.sync_failed, with the CRM's code, never its words
    // (a CRM's message echoes the values it refused).
    const announced = await eventually('crm.sync_failed for the lead', async () => {
      const msg = await stack.nats.jsm.streams
        .getMessage(stack.nats.topology.pipelineStream, { last_by_subj: stack.nats.topology.subject(SUBJECTS.crmSyncFailed) })
        .catch(() => undefined);
      const event = msg && fromBinary(events.CrmSyncFailedSchema, msg.data);
      return event?.leadId === leadId ? event : undefined;
    });
    expect(announced.error).toMatch(/^salesforce CrmValidationError: \S+/);
    expect(announced.error).not.toContain('value not accepted');
    expect(letter.subject).toBe(SUBJECTS.leadRouted);
    expect(letter.eventId).not.toBe('');
    // lead.routed's, and the enrollment's update if it came after: each tries the CRM once.
    expect(letter.attempts).toBeGreaterThanOrEqual(1);
    expect(letter.attempts).toBeLessThanOrEqual(2);
    const failed = await stack.crmSync.getSyncStatus({ leadId });
    expect(failed.record).toMatchObject({ status: crmsync.SyncStatus.FAILED, crmId: '' });
    expect(failed.record!.lastError).toContain('Title');
    expect(recordsOf(stack.sim, leadId)).toHaveLength(0);

    // The enrollment's update, if it is still on its way, would otherwise sync the lead before the replay does.
    await pipelineAtRest();
    stack.sim.setFaults({ rejectField: undefined });
    expect(await stack.crmSync.replay({ target: { case: 'leadId', value: leadId } })).toMatchObject({ replayed: 1, skipped: 0, failed: 0 });
    const record = await syncedRecord(stack, leadId, 10_000);
    expect(recordsOf(stack.sim, leadId)).toEqual([expect.objectContaining({ Id: record.crmId, Title: 'VP of Engineering' })]);
    const { deadLetters } = await stack.crmSync.listDeadLetters({});
    expect(deadLetters.map((d) => d.leadId)).not.toContain(leadId);

    // Again: the CRM already holds these fields, so nothing is sent.
    const requests = stack.sim.counters().requests;
    expect(await stack.crmSync.replay({ target: { case: 'leadId', value: leadId } })).toMatchObject({ replayed: 0, skipped: 1, failed: 0 });
    expect(stack.sim.counters().requests).toBe(requests);
  }, 90_000);

  it('replays all dead letters, pages through them, and counts what is still refused', async () => {
    stack.sim.setFaults({ rejectField: 'Title' });
    const refused = await Promise.all([1, 2, 3, 4].map(() => submitLead(stack, 'bulk')));
    const ids = refused.map((l) => l.leadId);
    await eventually('four dead letters', async () => {
      const { deadLetters } = await stack.crmSync.listDeadLetters({ pageSize: 1000 });
      return ids.every((id) => deadLetters.some((d) => d.leadId === id)) ? true : undefined;
    });

    // Pages of two, in lead-id order, end to end.
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await stack.crmSync.listDeadLetters({ pageSize: 2, pageToken });
      expect(page.deadLetters.length).toBeLessThanOrEqual(2);
      seen.push(...page.deadLetters.map((d) => d.leadId));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(ids));

    // Still refused: every one fails again and stays a dead letter, with another attempt counted.
    const attemptsOf = async () =>
      Object.fromEntries((await stack.crmSync.listDeadLetters({ pageSize: 1000 })).deadLetters.filter((d) => ids.includes(d.leadId)).map((d) => [d.leadId, d.attempts]));
    await pipelineAtRest();
    const before = await attemptsOf();
    expect(await stack.crmSync.replay({ target: { case: 'all', value: true } })).toMatchObject({ replayed: 0, failed: seen.length });
    const after = await attemptsOf();
    // At least the replay's: an update of the lead that lands meanwhile tries it once more too.
    for (const id of ids) expect(after[id]! - before[id]!).toBeGreaterThanOrEqual(1);

    stack.sim.setFaults({ rejectField: undefined });
    expect(await stack.crmSync.replay({ target: { case: 'all', value: true } })).toMatchObject({ replayed: seen.length, failed: 0 });
    expect((await stack.crmSync.listDeadLetters({})).deadLetters).toEqual([]);
    for (const id of ids) expect(recordsOf(stack.sim, id)).toHaveLength(1);
  }, 90_000);

  it('answers bad requests with the field at fault', async () => {
    await expect(stack.crmSync.listDeadLetters({ pageToken: 'not-a-token' })).rejects.toThrow(/page_token/);
    await expect(stack.crmSync.replay({ target: { case: 'leadId', value: randomUUID() } })).rejects.toThrow(/not found/);
    await expect(stack.crmSync.replay({})).rejects.toThrow(/target/);
  }, 90_000);
});
