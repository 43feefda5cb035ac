// One lead at a time through two routing replicas on the real NATS and FerretDB: PreviewRoute is
// pure and explains like a real assignment, account matching beats the round robin, owner
// management validates, AcceptLead stops the SLA clock, and a lapsed SLA re-routes exactly once
// per step with its own leadmesh.lead.reassigned event.
import { randomUUID } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { events } from '@leadmesh/contracts';
import { topology } from '@leadmesh/platform';
import { findTraces } from '../../../test/harness/jaeger.ts';
import { contactSalesLead, eventually, scoredEvent, sleep, startRouting, type RoutingStack, type StoredAssignment } from './support.ts';

const NAMESPACE = 'routing-sla';
/** The traces whose root is routing's 'sla reroute' span for this lead. */
const slaRerouteTraces = (leadId: string) => findTraces('routing', 'sla reroute', { 'leadmesh.lead_id': leadId });
const SLA_SECONDS = 4;
let stack: RoutingStack;
const reassigned: events.LeadReassigned[] = [];

beforeAll(async () => {
  stack = await startRouting(NAMESPACE, [120, 121], { ROUTING_SLA_SECONDS: String(SLA_SECONDS), ROUTING_SLA_SCAN_MS: '300', ROUTING_SLA_LEASE_MS: '5000' });
  const sub = stack.nats.connection.subscribe(topology(NAMESPACE).subject('leadmesh.lead.reassigned'));
  void (async () => {
    for await (const msg of sub) reassigned.push(fromBinary(events.LeadReassignedSchema, msg.data));
  })();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const client = (i = 0) => stack.clients[i]!;
const turns = () => stack.db.collection('round_robin_turns').countDocuments();

async function assigned(leadId: string) {
  return eventually(`assignment of ${leadId}`, async () => (await client(1).getAssignment({ leadId }).catch(() => undefined))?.assignment);
}

async function rpcError(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('routing one lead at a time', () => {
  it('previews purely, and the real assignment keeps the same explanation', async () => {
    const { profile, score } = contactSalesLead({ email: 'preview.buyer@example-retail.org' });
    const before = await turns();
    const first = (await client(0).previewRoute({ profile, score })).assignment!;
    const second = (await client(1).previewRoute({ profile, score })).assignment!;
    expect(first.ruleId).toBe('contact-sales-form');
    expect(second.ownerId).toBe(first.ownerId);
    expect(first.reason).toContain('picked by weighted round robin in team SMB Global');
    expect(await turns()).toBe(before);
    expect(await stack.db.collection('assignments').countDocuments()).toBe(0);

    const leadId = randomUUID();
    await stack.publisher.publish(scoredEvent(leadId, { email: 'preview.buyer@example-retail.org' }));
    const real = await assigned(leadId);
    expect(real.ownerId).toBe(first.ownerId);
    expect(real.reason).toBe(first.reason);
    expect(await turns()).toBe(before + 1);
  });

  it('gives a lead from an owned account to its owner, without taking a round-robin turn', async () => {
    const before = await turns();
    const leadId = randomUUID();
    await stack.publisher.publish(scoredEvent(leadId, { email: 'cto@initech.io' }));
    const assignment = await assigned(leadId);
    expect(assignment).toMatchObject({ ownerId: 'tom-hughes', ruleId: 'account-match', teamId: 'smb-global' });
    expect(assignment.reason).toContain('Account match: the email domain initech.io belongs to the account initech.io, owned by Tom Hughes');
    expect(await turns()).toBe(before);
  });

  it('re-routes a lead nobody accepted to the next owner, once per lapse, publishing lead.reassigned, until only the fallback is left', async () => {
    const leadId = randomUUID();
    await stack.publisher.publish(scoredEvent(leadId));
    const first = await assigned(leadId);
    expect(first.slaDueAt).toBeDefined();
    const assignedAt = Number(first.assignedAt!.seconds);
    expect(Number(first.slaDueAt!.seconds) - assignedAt).toBe(SLA_SECONDS);

    const second = await eventually('the first re-route', async () => {
      const a = (await client(0).getAssignment({ leadId })).assignment!;
      return a.previousOwnerIds.length === 1 ? a : undefined;
    }, 20_000);
    const smb = ['priya-nair', 'tom-hughes'];
    expect(second.previousOwnerIds).toEqual([first.ownerId]);
    expect(second.ownerId).toBe(smb.find((o) => o !== first.ownerId));
    expect(second.reason).toMatch(/^SLA re-route: .+ did not accept the lead by /);
    const event = await eventually('lead.reassigned', async () => reassigned.find((e) => e.leadId === leadId));
    expect(event.previousOwnerId).toBe(first.ownerId);
    expect(event.assignment?.ownerId).toBe(second.ownerId);
    expect(event.profile?.contact?.email).toMatch(/@example-retail\.org$/);

    // Both SMB owners let it lapse: the fallback owner gets it, and keeps it after their own lapse.
    const third = await eventually('the fallback', async () => {
      const a = (await client(1).getAssignment({ leadId })).assignment!;
      return a.previousOwnerIds.length === 2 ? a : undefined;
    }, 20_000);
    expect(third).toMatchObject({ ownerId: 'dana-whitfield', ruleId: 'fallback' });
    await sleep((SLA_SECONDS + 2) * 1000);
    const doc = await stack.db.collection<StoredAssignment>('assignments').findOne({ _id: leadId });
    expect(doc!.ownerId).toBe('dana-whitfield');
    expect(doc!.history.map((h) => h.kind)).toEqual(['assigned', 'sla-reroute', 'sla-reroute', 'sla-reroute-skipped']);
    // Two replicas scanned the whole time, yet each lapse moved the lead once.
    expect(reassigned.filter((e) => e.leadId === leadId).map((e) => e.previousOwnerId)).toEqual([first.ownerId, second.ownerId]);
    // Each re-route is a trace of its own in Jaeger, found by the lead id, holding the publish of its lead.reassigned.
    const traces = await eventually('the re-routes traced in Jaeger', async () => {
      const found = await slaRerouteTraces(leadId);
      return found.filter((t) => t.spans.some((span) => /^publish .*lead\.reassigned$/.test(span.operationName))).length >= 2 ? found : undefined;
    }, 20_000);
    expect(traces.length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('keeps a lead its owner accepted before the SLA, and only the owner may accept', async () => {
    const leadId = randomUUID();
    await stack.publisher.publish(scoredEvent(leadId));
    const assignment = await assigned(leadId);
    const other = assignment.ownerId === 'priya-nair' ? 'tom-hughes' : 'priya-nair';
    const refused = await rpcError(client(0).acceptLead({ leadId, ownerId: other }));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toContain(`assigned to ${assignment.ownerId}, not ${other}`);

    const accepted = (await client(0).acceptLead({ leadId, ownerId: assignment.ownerId })).assignment!;
    expect(accepted.acceptedAt).toBeDefined();
    await sleep((SLA_SECONDS + 2) * 1000);
    const later = (await client(1).getAssignment({ leadId })).assignment!;
    expect(later.ownerId).toBe(assignment.ownerId);
    expect(later.previousOwnerIds).toEqual([]);
    expect(reassigned.some((e) => e.leadId === leadId)).toBe(false);
  }, 30_000);

  it('validates UpsertOwner and names the field', async () => {
    const owner = {
      ownerId: 'kim-lee',
      name: 'Kim Lee',
      email: 'kim.lee@leadmesh.example',
      teamId: 'smb-global',
      weight: 1,
      capacityPerDay: 10,
      timeZone: 'Europe/Berlin',
      workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
      active: true,
    };
    const badZone = await rpcError(client(0).upsertOwner({ owner: { ...owner, timeZone: 'Mars/Olympus' } }));
    expect(badZone.code).toBe(status.INVALID_ARGUMENT);
    expect(badZone.metadata.get('field-violation')).toEqual(['owner.time_zone: "Mars/Olympus" is not an IANA time zone']);
    const badTeam = await rpcError(client(0).upsertOwner({ owner: { ...owner, teamId: 'moon-base' } }));
    expect(badTeam.code).toBe(status.INVALID_ARGUMENT);
    expect(String(badTeam.metadata.get('field-violation')[0])).toMatch(/^owner\.team_id: team "moon-base" does not exist/);
    const noHours = await rpcError(client(0).upsertOwner({ owner: { ...owner, workingHours: undefined } }));
    expect(String(noHours.metadata.get('field-violation')[0])).toMatch(/^owner\.working_hours: expected an object/);

    const saved = (await client(0).upsertOwner({ owner })).owner!;
    expect(saved).toMatchObject({ ownerId: 'kim-lee', teamId: 'smb-global', active: true });
    const listed = await client(1).listOwners({ teamId: 'smb-global' });
    expect(listed.owners.map((o) => o.ownerId).sort()).toEqual(['kim-lee', 'priya-nair', 'tom-hughes']);
    const missing = await rpcError(client(1).setOwnerAvailability({ ownerId: 'nobody-here', active: false }));
    expect(missing.code).toBe(status.NOT_FOUND);
  });
});
