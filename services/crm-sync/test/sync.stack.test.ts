// crm-sync on the real NATS and FerretDB, with the four upstream services running and the CRM
// simulator (a test fixture) standing in for Salesforce: one record per lead, whatever happens to it.
// crm-sync has no route to the other services' gRPC APIs here: it works from the events alone.
import { randomUUID } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, crmsync, events, intake, lead } from '@leadmesh/contracts';
import { EventPublisher, encodeEvent } from '@leadmesh/platform';
import { eventually, recordsOf, startCrmStack, submitLead, syncedRecord, type CrmStack } from './stack-support.js';

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
