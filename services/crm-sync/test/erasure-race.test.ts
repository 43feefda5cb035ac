// An erasure that arrives while a CRM write of the same lead is queued or in flight, against the
// real FerretDB and the CRM simulator (a test fixture) holding the write: afterwards the CRM holds
// nothing of the lead, neither a record nor one in the Recycle Bin or the archive.
import { randomUUID } from 'node:crypto';
import { create, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { lead } from '@leadmesh/contracts';
import { Metrics, createLogger } from '@leadmesh/platform';
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { keptInOutbox, testStore } from '../../../test/harness/store.ts';
import { CrmAvailability } from '../src/crm-availability.js';
import { CrmSyncService } from '../src/crm-sync.service.js';
import { loadFieldMapping } from '../src/crm/mapping-files.js';
import { CrmGateway } from '../src/crm.gateway.js';
import { DeadLetterStore } from '../src/dead-letter.store.js';
import type { LeadState } from '../src/domain/lead-state.js';
import { LeadSync, type SyncOutcome } from '../src/lead-sync.js';
import { SyncStore } from '../src/sync.store.js';
import { hubspotAdapter, salesforceAdapter, startSimulator, until } from './support.js';

const db = testStore('crm-erasure-race');
const logger = createLogger('crm-erasure-race', 'silent');
let sim: CrmSimulator;
let store: SyncStore;
let deadLetters: DeadLetterStore;

beforeAll(async () => {
  await db.start();
  sim = await startSimulator();
  store = new SyncStore(db.store, keptInOutbox);
  deadLetters = new DeadLetterStore(db.store, keptInOutbox, new Metrics('crm-erasure-race-dead-letters'), logger);
}, 60_000);

afterAll(async () => {
  await sim.close();
  await db.stop();
});

beforeEach(() => sim.reset());

const CRMS = ['salesforce', 'hubspot'] as const;
type Crm = (typeof CRMS)[number];

/** crm-sync's use cases wired as the module wires them, on one CRM; `erased` stands for the service's view of erasures. */
async function crmSyncFor(crm: Crm, erased = new Set<string>()) {
  const adapter = crm === 'salesforce' ? salesforceAdapter(sim, { autoAssign: false }) : hubspotAdapter(sim);
  const gateway = new CrmGateway(adapter, await loadFieldMapping(crm), undefined, 1);
  gateway.isErased = async (leadId) => erased.has(leadId);
  const metrics = new Metrics(`crm-erasure-race-${crm}-${randomUUID()}`);
  const sync = new LeadSync(store, deadLetters, gateway, metrics, logger);
  const availability = new CrmAvailability(adapter, { maxWaitMs: 1_000, probeIntervalMs: 100 }, logger);
  const service = new CrmSyncService(store, deadLetters, sync, gateway, availability, logger);
  return { sync, service, erased };
}

/** What lead.routed delivers of a new lead: profile, score and owner. */
function routedLead(): { leadId: string; email: string; state: LeadState } {
  const leadId = randomUUID();
  const email = `erin.${leadId.slice(0, 8)}@example-erasure.com`;
  const at = new Date();
  const profile = create(lead.LeadProfileSchema, {
    contact: { email, firstName: 'Erin', lastName: 'Erased', company: 'Forget Me GmbH', country: 'DE' },
    source: { formId: 'contact-sales' },
    consent: { emailMarketing: true },
    receivedAt: timestampFromDate(at),
  });
  const score = create(lead.LeadScoreSchema, { leadId, fitScore: 70, engagementScore: 10, grade: 'A2', lifecycleStage: lead.LifecycleStage.LEAD, ruleSetVersion: '2026-11-01.1', scoredAt: timestampFromDate(at) });
  const assignment = create(lead.AssignmentSchema, {
    leadId,
    teamId: 'enterprise-na',
    ruleId: 'enterprise-na',
    ownerId: 'avery-chen',
    ownerName: 'Avery Chen',
    ownerEmail: 'avery.chen@leadmesh.example',
    ownerCrmUserIds: { salesforceUserId: '005Dn00000LMO01AAA', hubspotOwnerId: '81234567' },
    assignedAt: timestampFromDate(at),
  });
  return {
    leadId,
    email,
    state: {
      receivedAt: at,
      profile: { value: toJson(lead.LeadProfileSchema, profile) as Record<string, unknown>, at },
      score: { value: toJson(lead.LeadScoreSchema, score) as Record<string, unknown>, at },
      assignment: { value: toJson(lead.AssignmentSchema, assignment) as Record<string, unknown>, at },
    },
  };
}

const routed = { onlyIfRouted: false, lastTry: false };
const syncRouted = (sync: LeadSync, l: ReturnType<typeof routedLead>): Promise<SyncOutcome> =>
  sync.run(l.leadId, { eventId: randomUUID(), subject: 'leadmesh.lead.routed', state: l.state }, routed);

/** Everything the CRM holds of the person, live or restorable. */
function crmHolds(crm: Crm, email: string): unknown[] {
  const all: unknown[] = crm === 'salesforce' ? [...sim.records('salesforce'), ...sim.deleted('salesforce')] : [...sim.records('hubspot'), ...sim.deleted('hubspot')];
  return all.filter((r) => JSON.stringify(r).toLowerCase().includes(email));
}

describe.each(CRMS)('an erasure racing a CRM write (%s)', (crm) => {
  it('an upsert in flight when the erasure arrives: the erasure waits for it and deletes what it wrote, for good', async () => {
    const { sync, service, erased } = await crmSyncFor(crm);
    const person = routedLead();
    sim.holdUpserts();
    const syncing = syncRouted(sync, person);
    await until(() => sim.heldUpserts() === 1, 10_000);

    // The contact.erased consumer: the service's view knows at once, then forget().
    erased.add(person.leadId);
    const forgetting = service.forget(person.leadId);
    await eventuallyTombstone(person.leadId);
    sim.releaseUpserts();

    expect(await syncing).toBe('erased');
    await forgetting;
    expect(crmHolds(crm, person.email)).toEqual([]);
    expect(await store.find(person.leadId)).toMatchObject({ erasedAt: expect.any(Date) });
    expect(await deadLetters.find(person.leadId)).toBeUndefined();
  });

  it("a write another replica had in flight (the tombstone written, this replica's sync unaware): the sync deletes the record again after its write", async () => {
    const { sync } = await crmSyncFor(crm);
    const person = routedLead();
    sim.holdUpserts();
    const syncing = syncRouted(sync, person);
    await until(() => sim.heldUpserts() === 1, 10_000);
    // The erasure as another replica made it: tombstone and CRM delete done, nothing waited for here.
    await store.forget(person.leadId);
    sim.releaseUpserts();

    expect(await syncing).toBe('erased');
    expect(crmHolds(crm, person.email)).toEqual([]);
  });

  it('a CRM that refuses the delete-again at that moment: the duty stays on the tombstone and a later pass deletes the record', async () => {
    const { sync } = await crmSyncFor(crm);
    const person = routedLead();
    sim.holdUpserts();
    const syncing = syncRouted(sync, person);
    await until(() => sim.heldUpserts() === 1, 10_000);
    await store.forget(person.leadId);
    // The upsert is through the door already; everything after it meets an outage.
    sim.setFaults({ outage: true });
    sim.releaseUpserts();

    expect(await syncing).toBe('erased');
    expect(crmHolds(crm, person.email)).toHaveLength(1);
    expect(await store.crmErasuresPending(1000)).toContain(person.leadId);

    sim.setFaults({ outage: false });
    // The adapter's breaker opened during the outage: passes go on until its half-open trial lets one through.
    const deadline = Date.now() + 10_000;
    while ((await store.crmErasuresPending(1000)).includes(person.leadId)) {
      if (Date.now() > deadline) throw new Error('the pending CRM erasure was not done');
      await sync.erasePending();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(crmHolds(crm, person.email)).toEqual([]);
    expect(await store.find(person.leadId)).toMatchObject({ erasedAt: expect.any(Date) });
  });

  it('an upsert queued behind another when the erasure arrives is never sent, and a sync for an erased lead never starts', async () => {
    const { sync, service, erased } = await crmSyncFor(crm);
    const first = routedLead();
    const queued = routedLead();
    sim.holdUpserts();
    // One request in flight at a time (maxInFlight 1): the second lead's upsert waits in the queue.
    const firstSync = syncRouted(sync, first);
    await until(() => sim.heldUpserts() === 1, 10_000);
    const queuedSync = syncRouted(sync, queued);
    erased.add(queued.leadId);
    sim.releaseUpserts();

    expect(await firstSync).toBe('synced');
    expect(await queuedSync).toBe('erased');
    await service.forget(queued.leadId);
    expect(crmHolds(crm, queued.email)).toEqual([]);
    // One upsert went out, the first lead's.
    expect(sim.requests().filter((r) => (r.method === 'PATCH' && r.path.includes('/sobjects/Lead/')) || r.path.endsWith('/batch/upsert'))).toHaveLength(1);

    // Afterwards an event of the erased lead finds the tombstone: nothing is sent at all.
    const before = sim.requests().length;
    expect(await syncRouted(sync, queued)).toBe('duplicate');
    expect(sim.requests()).toHaveLength(before);
    expect(crmHolds(crm, first.email)).toHaveLength(1);
  });
});

async function eventuallyTombstone(leadId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await store.find(leadId))?.erasedAt) {
    if (Date.now() > deadline) throw new Error('the erasure did not write its tombstone');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
