// Lead-keyed documents against the real NATS and FerretDB, counted in store commands: a new lead's
// event is one insert, an erased lead's tombstone refuses a late event, the erased leads are known
// without a read per event, and two replicas writing one lead at once both land (FerretDB's
// conditional update is not atomic on its own; see revision-claims.ts).
import { randomUUID } from 'node:crypto';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { Schema } from 'mongoose';
import { SUBJECTS, events } from '@leadmesh/contracts';
import {
  Erasures,
  EventPublisher,
  Metrics,
  MongoStore,
  NatsClient,
  Outbox,
  appliedEventsFields,
  applyEventOnce,
  createLogger,
  defineModel,
  encodeEvent,
  ensureStreams,
  forgetLead,
  notErased,
  outboxEntrySchema,
  topology,
  type AppliedEvents,
} from '@leadmesh/platform';

const namespace = `leaddocs-${randomUUID().slice(0, 8)}`;
const logger = createLogger('lead-documents-test', 'silent');
const metrics = new Metrics('lead-documents-test');
const nats = new NatsClient('nats://127.0.0.1:4222', 'lead-documents-test', logger, topology(namespace));
const database = `leadmesh_${namespace.replace(/-/g, '_')}`;
const store = new MongoStore('mongodb://127.0.0.1:27017/', database, logger);
const outbox = new Outbox(new EventPublisher(nats), nats, metrics, logger, 500);
const erasures = new Erasures(store, outbox, 'lead-documents-test');

interface StageDoc extends AppliedEvents {
  stage?: string;
  /** The events applied, in order: each must appear once. */
  seen?: string[];
}
const stageSchema = () =>
  new Schema<StageDoc>({ _id: String, ...appliedEventsFields, stage: String, seen: [String], outbox: { type: [outboxEntrySchema], default: [] } }, { versionKey: false });
const stages = defineModel<StageDoc>(store, 'LeadStage', stageSchema(), 'lead_stages');
outbox.track(stages);
// A second replica: its own connection to the same database, and its own model name, so that the
// in-process serialising of one document's writes does not order it with the first replica's.
const otherReplica = new MongoStore('mongodb://127.0.0.1:27017/', database, logger);

const scored = (leadId: string) =>
  encodeEvent(SUBJECTS.leadScored, events.LeadScoredSchema, { eventId: `lead.scored:${leadId}:${randomUUID()}`, leadId, occurredAt: timestampNow() });

/** Store commands sent to a collection (lead_stages unless named) so far, by command name. */
async function commandsOn(collection: string): Promise<Record<string, number>> {
  const { values } = await metrics.storeCommands.get();
  return Object.fromEntries(values.filter((v) => v.labels.collection === collection).map((v) => [v.labels.command, v.value]));
}
const commands = () => commandsOn('lead_stages');

async function commandsDuring(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await commands();
  await work();
  const after = await commands();
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let stagesOnOtherReplica: typeof stages;

beforeAll(async () => {
  nats.start();
  store.start();
  await Promise.all([nats.ready(), store.ready()]);
  stagesOnOtherReplica = defineModel<StageDoc>(otherReplica, 'LeadStageOnOtherReplica', stageSchema(), 'lead_stages');
  otherReplica.start();
  await otherReplica.ready();
  await ensureStreams(nats.jsm, nats.topology);
}, 60_000);

afterAll(async () => {
  await outbox.stop();
  erasures.stop();
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
  await otherReplica.close();
  await nats.jsm.streams.delete(nats.topology.pipelineStream).catch(() => undefined);
  await nats.jsm.streams.delete(nats.topology.deadLetterStream).catch(() => undefined);
  await nats.jsm.streams.delete(`KV_${nats.topology.contactKeysBucket}`).catch(() => undefined);
  await nats.close();
});

describe('lead-keyed documents', () => {
  it("applies a new lead's event with one insert and no read", async () => {
    const leadId = randomUUID();
    const used = await commandsDuring(() =>
      applyEventOnce(stages, outbox, leadId, `e-${leadId}`, () => ({ set: { stage: 'scored' }, events: [] }), { likelyNew: true }),
    );
    expect(used).toEqual({ insert: 1 });
    expect(await stages.findById(leadId).lean()).toMatchObject({ stage: 'scored', processedEventIds: [`e-${leadId}`] });
  });

  it('falls back to read and compare-and-set when a "likely new" lead exists, and applies once', async () => {
    const leadId = randomUUID();
    await applyEventOnce(stages, outbox, leadId, 'first', () => ({ set: { stage: 'received' }, events: [] }));
    const results = [
      await applyEventOnce(stages, outbox, leadId, 'second', (current) => ({ set: { stage: `${current?.stage}+scored` }, events: [] }), { likelyNew: true }),
      await applyEventOnce(stages, outbox, leadId, 'second', (current) => ({ set: { stage: `${current?.stage}+again` }, events: [] }), { likelyNew: true }),
    ];
    expect(results).toEqual(['applied', 'duplicate']);
    expect(await stages.findById(leadId).lean()).toMatchObject({ stage: 'received+scored', revision: 2 });
  });

  it("refuses a late event for an erased lead: the tombstone is not brought back", async () => {
    const leadId = randomUUID();
    await applyEventOnce(stages, outbox, leadId, 'received', () => ({ set: { stage: 'received' }, events: [] }));
    await forgetLead(stages, leadId);
    // Late events, whether the service held the lead or not, and whether the writer expected a new lead.
    const late = await applyEventOnce(stages, outbox, leadId, 'scored', () => ({ set: { stage: 'scored' }, events: [scored(leadId)] }), { likelyNew: true });
    const neverHeld = randomUUID();
    await forgetLead(stages, neverHeld);
    const lateForNeverHeld = await applyEventOnce(stages, outbox, neverHeld, 'scored', () => ({ set: { stage: 'scored' }, events: [] }));
    expect([late, lateForNeverHeld]).toEqual(['erased', 'erased']);
    const tombstone = await stages.findById(leadId).lean();
    expect(tombstone).toMatchObject({ _id: leadId, revision: -1, processedEventIds: [], outbox: [] });
    expect(tombstone).not.toHaveProperty('stage');
    expect(await stages.countDocuments({ _id: { $in: [leadId, neverHeld] }, ...notErased })).toBe(0);
  });

  it('knows erased leads from memory once loaded, including those another replica erased', async () => {
    const erasedBefore = randomUUID();
    await store.connection.collection('erased_leads').insertOne({ _id: erasedBefore, erasureId: randomUUID(), erasedAt: new Date(), outbox: [] } as never);
    await erasures.load();
    const used = await commandsDuring(async () => expect(await erasures.isErased(erasedBefore)).toBe(true));
    expect(used).toEqual({});
    expect(await erasures.isErased(randomUUID())).toBe(false);
    // Another replica's erasure reaches this one through the periodic look at the newest.
    const erasedElsewhere = randomUUID();
    await store.connection.collection('erased_leads').insertOne({ _id: erasedElsewhere, erasureId: randomUUID(), erasedAt: new Date(), outbox: [] } as never);
    await until('the other replica erasure is known', () => erasures.isErased(erasedElsewhere), 20_000);
  }, 30_000);

  it('lands every effect once when two replicas apply events of the same leads at the same moment', async () => {
    const leads = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(leads.map((leadId) => applyEventOnce(stages, outbox, leadId, `${leadId}:received`, () => ({ set: { stage: 'received' }, append: { seen: { values: ['received'], keep: 10 } }, events: [] }))));
    // As crm-sync commits after its CRM call: each replica decides on the document it read before,
    // so both writes leave at the same moment (lead.routed on one replica, nurture.enrolled on the other).
    const read = new Map((await stages.find({ _id: { $in: leads } }).lean()).map((doc) => [doc._id, doc]));
    const apply = (model: typeof stages, leadId: string, event: string) =>
      applyEventOnce(model, outbox, leadId, `${leadId}:${event}`, () => ({ set: { stage: event }, append: { seen: { values: [event], keep: 10 } }, events: [] }), { read: read.get(leadId)! });
    const results: string[] = [];
    for (const leadId of leads) results.push(...(await Promise.all([apply(stages, leadId, 'routed'), apply(stagesOnOtherReplica, leadId, 'enrolled')])));
    expect(new Set(results)).toEqual(new Set(['applied']));
    for (const doc of await stages.find({ _id: { $in: leads } }).lean()) {
      expect({ lead: doc._id, seen: [...(doc.seen ?? [])].sort(), revision: doc.revision }).toEqual({ lead: doc._id, seen: ['enrolled', 'received', 'routed'], revision: 3 });
    }
  }, 60_000);

  it('keeps the tombstone when an erasure and an event of the lead arrive at two replicas at once', async () => {
    const leads = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(leads.map((leadId) => applyEventOnce(stages, outbox, leadId, `${leadId}:received`, () => ({ set: { stage: 'received' }, events: [] }))));
    const read = new Map((await stages.find({ _id: { $in: leads } }).lean()).map((doc) => [doc._id, doc]));
    for (const leadId of leads) {
      await Promise.all([
        forgetLead(stages, leadId),
        applyEventOnce(stagesOnOtherReplica, outbox, leadId, `${leadId}:scored`, () => ({ set: { stage: 'scored' }, events: [] }), { read: read.get(leadId)! }),
      ]);
    }
    const survivors = await stages.find({ _id: { $in: leads }, ...notErased }).lean();
    expect(survivors.map((doc) => ({ lead: doc._id, stage: doc.stage }))).toEqual([]);
  }, 60_000);

  it('sends the reads, inserts, claims and updates of many leads at once as a few bulk commands, each effect landing once', async () => {
    const leads = Array.from({ length: 30 }, () => randomUUID());
    const claimsBefore = await commandsOn('revision_claims');
    const created = await commandsDuring(() =>
      Promise.all(leads.map((leadId) => applyEventOnce(stages, outbox, leadId, `${leadId}:received`, () => ({ set: { stage: 'received' }, append: { seen: { values: ['received'], keep: 10 } }, events: [] }), { likelyNew: true }))),
    );
    expect(created.insert).toBeLessThanOrEqual(3);
    const updated = await commandsDuring(() =>
      Promise.all(leads.map((leadId) => applyEventOnce(stages, outbox, leadId, `${leadId}:scored`, (current) => ({ set: { stage: `${current?.stage}+scored` }, append: { seen: { values: ['scored'], keep: 10 } }, events: [] })))),
    );
    // One read and one write per lead would be 60 commands; under way together they are a handful.
    expect((updated.find ?? 0) + (updated.update ?? 0)).toBeLessThanOrEqual(8);
    const claims = (await commandsOn('revision_claims')).insert ?? 0;
    expect(claims - (claimsBefore.insert ?? 0)).toBeLessThanOrEqual(4);
    const docs = await stages.find({ _id: { $in: leads } }).lean();
    expect(docs.map((doc) => ({ stage: doc.stage, seen: doc.seen, revision: doc.revision }))).toEqual(leads.map(() => ({ stage: 'received+scored', seen: ['received', 'scored'], revision: 2 })));
  }, 30_000);

  it('steps over a revision claimed by a writer that died before writing, so the lead is never stuck', async () => {
    const leadId = randomUUID();
    await applyEventOnce(stages, outbox, leadId, `${leadId}:received`, () => ({ set: { stage: 'received' }, events: [] }));
    // A replica claimed revision 2 a minute ago and died before its write.
    await store.connection.collection('revision_claims').insertOne({ _id: `lead_stages:${leadId}:2`, at: new Date(Date.now() - 60_000) } as never);
    expect(await applyEventOnce(stagesOnOtherReplica, outbox, leadId, `${leadId}:scored`, () => ({ set: { stage: 'scored' }, events: [] }))).toBe('applied');
    expect(await stages.findById(leadId).lean()).toMatchObject({ stage: 'scored', revision: 3 });
    // A claim still fresh is respected: the writer waits for it, and decides again once the holder wrote.
    await store.connection.collection('revision_claims').insertOne({ _id: `lead_stages:${leadId}:4`, at: new Date() } as never);
    const waiting = applyEventOnce(stagesOnOtherReplica, outbox, leadId, `${leadId}:routed`, (current) => ({ set: { stage: `${current?.stage}+routed` }, events: [] }));
    await stages.updateOne({ _id: leadId, revision: 3 }, { $set: { stage: 'rescored', revision: 4 } });
    expect(await waiting).toBe('applied');
    expect(await stages.findById(leadId).lean()).toMatchObject({ stage: 'rescored+routed', revision: 5 });
  }, 30_000);
});
