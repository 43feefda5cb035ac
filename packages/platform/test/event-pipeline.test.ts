// The platform's event path against the real NATS and FerretDB: outbox publish, de-duplicated
// retries, exactly-once effects under redelivery, and poison events parked in dead letters while
// the others flow on.
import { randomUUID } from 'node:crypto';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { headers } from '@nats-io/nats-core';
import { Schema } from 'mongoose';
import { SUBJECTS, events } from '@leadmesh/contracts';
import {
  EventConsumers,
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
  outboxEntrySchema,
  topology,
  type AppliedEvents,
} from '@leadmesh/platform';

const namespace = `platform-${randomUUID().slice(0, 8)}`;
const logger = createLogger('platform-test', 'silent');
const metrics = new Metrics('platform-test');
const nats = new NatsClient('nats://127.0.0.1:4222', 'platform-test', logger, topology(namespace));
const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_${namespace.replace(/-/g, '_')}`, logger);
const publisher = new EventPublisher(nats);
const outbox = new Outbox(publisher, nats, metrics, logger, 500);

interface TallyDoc extends AppliedEvents {
  count: number;
}
const tallies = defineModel<TallyDoc>(
  store,
  'Tally',
  new Schema<TallyDoc>({ _id: String, ...appliedEventsFields, count: { type: Number, default: 0 }, outbox: { type: [outboxEntrySchema], default: [] } }, { versionKey: false }),
  'tallies',
);
outbox.track(tallies);

const received = (leadId: string, eventId = `lead.received:${randomUUID()}`) =>
  encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, { eventId, leadId, occurredAt: timestampNow(), submissionId: randomUUID(), newLead: true });

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  nats.start();
  store.start();
  await Promise.all([nats.ready(), store.ready()]);
});

afterAll(async () => {
  await nats.jsm.streams.delete(nats.topology.pipelineStream).catch(() => undefined);
  await nats.jsm.streams.delete(nats.topology.deadLetterStream).catch(() => undefined);
  await store.connection.dropDatabase().catch(() => undefined);
  await nats.close();
  await store.close();
});

describe('the event path', () => {
  it('de-duplicates a retried publish with the same event id', async () => {
    const event = received(randomUUID());
    await publisher.publish(event);
    await publisher.publish(event);
    const stream = await nats.jsm.streams.info(nats.topology.pipelineStream);
    const copies: string[] = [];
    for (let seq = stream.state.first_seq; seq <= stream.state.last_seq; seq++) {
      const msg = await nats.jsm.streams.getMessage(nats.topology.pipelineStream, { seq }).catch(() => null);
      if (msg?.header.get('Leadmesh-Event-Id') === event.eventId) copies.push(String(seq));
    }
    expect(copies).toHaveLength(1);
  });

  it('applies each event once however often it is delivered, and parks a poison event in dead letters while the rest flow on', async () => {
    const consumers = new EventConsumers(nats, metrics, logger, { maxDeliver: 3, backoffMs: [50], concurrency: 8, ackWaitMs: 5000 });
    const failOnce = new Set<string>();
    consumers.register({
      durable: 'platform-test-tally',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: async (event, ctx) => {
        await applyEventOnce(tallies, outbox, event.leadId, ctx.eventId, (current) => ({ set: { count: (current?.count ?? 0) + 1 }, events: [] }));
        // Fails after storing the effect, the first time: the redelivery must not count again.
        if (event.submissionId.startsWith('fail-after-store') && !failOnce.has(ctx.eventId)) {
          failOnce.add(ctx.eventId);
          throw new Error('crashed after storing');
        }
      },
    });
    consumers.start();
    try {
      const leads = Array.from({ length: 20 }, () => randomUUID());
      for (const leadId of leads) await publisher.publish(received(leadId));
      const flaky = randomUUID();
      await publisher.publish(
        encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, { eventId: `lead.received:${randomUUID()}`, leadId: flaky, submissionId: 'fail-after-store-1' }),
      );
      // Garbage where a LeadReceived should be.
      const h = headers();
      h.set('Leadmesh-Event-Id', 'poison-1');
      await nats.js.publish(nats.topology.subject(SUBJECTS.leadReceived), new Uint8Array([0xff, 0xff, 0xff, 0x01]), { msgID: 'poison-1', headers: h });
      const after = randomUUID();
      await publisher.publish(received(after));

      await until('every good event applied', async () => (await tallies.countDocuments({ _id: { $in: [...leads, flaky, after] } })) === leads.length + 2);
      const docs = await tallies.find({ _id: { $in: [...leads, flaky, after] } }).lean();
      expect(docs.every((d) => d.count === 1)).toBe(true);
      expect(failOnce.size).toBe(1);

      await until('the poison event in dead letters', async () => (await nats.jsm.streams.info(nats.topology.deadLetterStream)).state.messages === 1);
      const parked = await nats.jsm.streams.getMessage(nats.topology.deadLetterStream, { last_by_subj: nats.topology.deadLetterSubject('platform-test-tally') });
      expect(parked.header.get('Leadmesh-Error')).toMatch(/not a valid leadmesh.events.v1.LeadReceived/);
      expect(parked.header.get('Leadmesh-Original-Subject')).toBe(nats.topology.subject(SUBJECTS.leadReceived));
      expect(parked.header.get('Leadmesh-Event-Id')).toBe('poison-1');
    } finally {
      await consumers.stop();
    }
  }, 30_000);

  it('handles no more events at once than its concurrency, across all its consumers, with a backlog waiting', async () => {
    const consumers = new EventConsumers(nats, metrics, logger, { maxDeliver: 3, backoffMs: [50], concurrency: 4, ackWaitMs: 5000 });
    let active = 0;
    let most = 0;
    const handled = new Set<string>();
    const slowly = async (eventId: string) => {
      most = Math.max(most, ++active);
      await new Promise((r) => setTimeout(r, 15));
      active--;
      handled.add(eventId);
    };
    const kinds = [
      { subject: SUBJECTS.leadReceived, schema: events.LeadReceivedSchema },
      { subject: SUBJECTS.leadScored, schema: events.LeadScoredSchema },
      { subject: SUBJECTS.leadRouted, schema: events.LeadRoutedSchema },
    ] as const;
    for (const { subject, schema } of kinds) {
      consumers.register({ durable: `platform-test-limit-${subject.split('.').pop()}`, subject, schema, handle: (_event, ctx) => slowly(ctx.eventId) });
    }
    // The backlog is in the stream before the consumers start, so every consumer has events to hand at once.
    const ids: string[] = [];
    for (const { subject, schema } of kinds) {
      for (let i = 0; i < 40; i++) {
        const eventId = `limit:${subject}:${i}:${randomUUID()}`;
        ids.push(eventId);
        await publisher.publish(encodeEvent(subject, schema as never, { eventId, leadId: randomUUID() } as never));
      }
    }
    consumers.start();
    try {
      await until('every event handled', async () => ids.every((id) => handled.has(id)), 20_000);
      expect(most).toBe(4);
    } finally {
      await consumers.stop();
    }
  }, 30_000);

  it('publishes outbox events left behind by a crash through the relay', async () => {
    const leadId = randomUUID();
    const event = received(leadId);
    // A write whose publish never happened (the process died after the store write).
    await tallies.create({ _id: leadId, revision: 1, processedEventIds: [], count: 0, outbox: [{ ...event, createdAt: new Date(Date.now() - 10_000) }] });
    expect(await outbox.relay()).toBe(1);
    const doc = await tallies.findById(leadId).lean();
    expect(doc?.outbox).toHaveLength(0);
    const msg = await nats.jsm.streams.getMessage(nats.topology.pipelineStream, { last_by_subj: nats.topology.subject(SUBJECTS.leadReceived) });
    expect(msg.header.get('Leadmesh-Event-Id')).toBe(event.eventId);
  });
});
