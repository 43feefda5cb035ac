// The platform's event path against the real NATS and FerretDB: outbox publish, de-duplicated
// retries, exactly-once effects under redelivery, poison events parked in dead letters while the
// others flow on, and a store outage that holds events in hand instead of parking them.
import { randomUUID } from 'node:crypto';
import { adminConnectOptions } from '../../../test/harness/nats.ts';
import { once } from 'node:events';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { headers } from '@nats-io/nats-core';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Schema } from 'mongoose';
import { SUBJECTS, events } from '@leadmesh/contracts';
import {
  EventConsumers,
  HEADER_CONSUMER,
  HEADER_DELIVERIES,
  HEADER_DEAD_LETTER_ERROR,
  EventPublisher,
  Metrics,
  MongoStore,
  NatsClient,
  Outbox,
  appliedEventsFields,
  applyEventOnce,
  classifyFailure,
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

/**
 * A TCP link to the shared FerretDB that the test can cut and mend: while cut, nothing listens on
 * its port and every open connection is dropped, which is what a store outage looks like to the
 * driver (refused connections, broken sockets, server selection timing out).
 */
class StoreLink {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `mongodb://127.0.0.1:${this.port}/?directConnection=true`;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = netConnect(27017, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

beforeAll(async () => {
  nats.start();
  store.start();
  await Promise.all([nats.ready(), store.ready()]);
});

afterAll(async () => {
  await nats.jsm.streams.delete(nats.topology.pipelineStream).catch(() => undefined);
  await nats.jsm.streams.delete(nats.topology.deadLetterStream).catch(() => undefined);
  await nats.jsm.streams.delete(`KV_${nats.topology.contactKeysBucket}`).catch(() => undefined);
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

  it('classifies what the real store and broker throw: unreachable is infrastructure, an answered refusal is a merit', async () => {
    const leadId = randomUUID();
    await tallies.insertMany([{ _id: leadId, revision: 1, processedEventIds: [], count: 0, outbox: [] }]);
    const duplicate = await tallies.insertMany([{ _id: leadId, revision: 1, processedEventIds: [], count: 0, outbox: [] }]).catch((e: unknown) => e);
    expect(classifyFailure(duplicate)).toBe('merit');
    const missingStream = await nats.jsm.streams.info(`${namespace}-no-such-stream`).catch((e: unknown) => e);
    expect(classifyFailure(missingStream)).toBe('merit');

    const link = new StoreLink();
    await link.open();
    const linked = new MongoStore(link.url, store.connection.name, logger);
    const linkedTallies = linked.connection.model('Tally', tallies.schema, 'tallies');
    linked.start();
    try {
      await linked.ready();
      expect(await linkedTallies.countDocuments({ _id: leadId })).toBe(1);
      await link.cut();
      const unreachable = await linkedTallies.findById(leadId).lean().catch((e: unknown) => e);
      expect(unreachable).toBeInstanceOf(Error);
      expect(classifyFailure(unreachable)).toBe('infrastructure');
    } finally {
      await linked.close();
    }

    const broker = await natsConnect({ servers: 'nats://127.0.0.1:4222', ...adminConnectOptions() });
    await broker.close();
    const closed = await broker.request('leadmesh.ping', new Uint8Array(), { timeout: 1000 }).catch((e: unknown) => e);
    expect(classifyFailure(closed)).toBe('infrastructure');
  }, 30_000);

  it('holds events in hand through a store outage longer than the retry budget, stops every consumer, resumes by itself and parks nothing', async () => {
    const link = new StoreLink();
    await link.open();
    const linked = new MongoStore(link.url, store.connection.name, logger);
    const visits = defineModel<TallyDoc>(linked, 'Visit', new Schema<TallyDoc>({ _id: String, ...appliedEventsFields, count: { type: Number, default: 0 }, outbox: { type: [outboxEntrySchema], default: [] } }, { versionKey: false }), 'outage_visits');
    const linkedOutbox = new Outbox(publisher, nats, metrics, logger, 500);
    linkedOutbox.track(visits);
    linked.start();
    await linked.ready();
    // Read back through the direct connection, which the outage does not touch.
    const visitsDirect = store.connection.model('VisitDirect', visits.schema, 'outage_visits');

    // A budget of two deliveries 50 ms apart: the old consumer parked an event within a second of the outage.
    // An ack wait with room for a loaded machine's late timers (the heartbeat runs every third of it): a
    // redelivery here must mean the hold gave the event back, not that a timer fired late.
    const consumers = new EventConsumers(nats, metrics, logger, { maxDeliver: 2, backoffMs: [50], concurrency: 4, ackWaitMs: 6000 });
    consumers.dependOn({ name: 'store', answers: () => linked.connection.db!.command({ ping: 1 }) });
    const heldChanges: boolean[] = [];
    consumers.onHeldChange((held) => heldChanges.push(held));
    // The broker's delivery count each time a handler saw an event of a lead.
    const deliveries = new Map<string, number[]>();
    const apply = async (leadId: string, ctx: { eventId: string; deliveryCount: number }) => {
      deliveries.set(leadId, [...(deliveries.get(leadId) ?? []), ctx.deliveryCount]);
      if (leadId.startsWith('rule-throws')) throw new Error('no nurture track for this lead');
      await applyEventOnce(visits, linkedOutbox, leadId, ctx.eventId, (current) => ({ set: { count: (current?.count ?? 0) + 1 }, events: [] }));
    };
    const durables = ['platform-test-outage-activity', 'platform-test-outage-reassigned'];
    consumers.register({ durable: durables[0]!, subject: SUBJECTS.activityRecorded, schema: events.ActivityRecordedSchema, handle: (event, ctx) => apply(event.leadId, ctx) });
    consumers.register({ durable: durables[1]!, subject: SUBJECTS.leadReassigned, schema: events.LeadReassignedSchema, handle: (event, ctx) => apply(event.leadId, ctx) });
    const publishBoth = async (leadId: string) => {
      await publisher.publish(encodeEvent(SUBJECTS.activityRecorded, events.ActivityRecordedSchema, { eventId: `activity:${randomUUID()}`, leadId: `${leadId}:a`, occurredAt: timestampNow(), activityId: randomUUID(), activityType: 'PAGE_VIEW' }));
      await publisher.publish(encodeEvent(SUBJECTS.leadReassigned, events.LeadReassignedSchema, { eventId: `reassigned:${randomUUID()}`, leadId: `${leadId}:r`, occurredAt: timestampNow() }));
    };
    const appliedCount = (leads: string[]) => visitsDirect.countDocuments({ _id: { $in: leads.flatMap((l) => [`${l}:a`, `${l}:r`]) } });
    const parkedBy = (durable: string) =>
      nats.jsm.streams.getMessage(nats.topology.deadLetterStream, { last_by_subj: nats.topology.deadLetterSubject(durable) }).catch(() => null);

    consumers.start();
    try {
      const before = Array.from({ length: 3 }, () => randomUUID());
      for (const leadId of before) await publishBoth(leadId);
      await until('the events before the outage applied', async () => (await appliedCount(before)) === 2 * before.length);
      for (const durable of durables) expect((await nats.jsm.consumers.info(nats.topology.pipelineStream, durable)).config.max_deliver).toBe(-1);

      await link.cut();
      const during = Array.from({ length: 6 }, () => randomUUID());
      for (const leadId of during) await publishBoth(leadId);
      await until('the consumers held', async () => consumers.isHeld);
      // Published once the hold began: every consumer has stopped pulling, so these wait in the broker.
      const late = Array.from({ length: 3 }, () => randomUUID());
      for (const leadId of late) await publishBoth(leadId);
      const deliveredSeq = async () => Promise.all(durables.map(async (d) => (await nats.jsm.consumers.info(nats.topology.pipelineStream, d)).delivered.consumer_seq));
      const deliveredAtHold = await deliveredSeq();
      // Held well past the two-delivery budget and past the broker's ack wait: nothing parked, nothing dropped.
      const heldSince = Date.now();
      while (Date.now() - heldSince < 8000) {
        expect(consumers.isHeld).toBe(true);
        for (const durable of durables) expect(await parkedBy(durable)).toBeNull();
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(await appliedCount([...during, ...late])).toBe(0);
      expect(await deliveredSeq()).toEqual(deliveredAtHold);
      for (const durable of durables) expect((await nats.jsm.consumers.info(nats.topology.pipelineStream, durable)).num_pending).toBeGreaterThanOrEqual(late.length);

      await link.open();
      await until('every event of the outage applied once the store answers', async () => (await appliedCount([...during, ...late])) === 2 * (during.length + late.length), 30_000);
      await until('the consumers resumed', async () => !consumers.isHeld);
      expect(heldChanges).toEqual([true, false]);
      const docs = await visitsDirect.find({ _id: { $in: [...before, ...during, ...late].flatMap((l) => [`${l}:a`, `${l}:r`]) } }).lean();
      expect(docs).toHaveLength(2 * (before.length + during.length + late.length));
      expect(docs.map((d) => d.count)).toEqual(docs.map(() => 1));
      // Held in hand, not handed back: however often an event was tried, the broker delivered it once.
      const seen = [...during, ...late].flatMap((l) => [`${l}:a`, `${l}:r`]).map((id) => deliveries.get(id) ?? []);
      expect(seen.every((counts) => counts.length > 0 && counts.every((n) => n === 1))).toBe(true);
      for (const durable of durables) expect(await parkedBy(durable)).toBeNull();

      // A merit failure still spends its budget and is parked, the broker's limit being unlimited.
      const throwing = `rule-throws-${randomUUID()}`;
      await publishBoth(throwing);
      await until('the rule failure parked', async () => (await parkedBy(durables[0]!)) !== null);
      const parked = (await parkedBy(durables[0]!))!;
      expect(parked.header.get(HEADER_CONSUMER)).toBe(durables[0]);
      expect(parked.header.get(HEADER_DEAD_LETTER_ERROR)).toBe('no nurture track for this lead');
      expect(parked.header.get(HEADER_DELIVERIES)).toBe('2');
    } finally {
      await consumers.stop();
      await linked.close();
      await link.cut();
    }
  }, 90_000);

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

  it('does not publish again an event whose clear failed when the store went down right after the publish', async () => {
    const leadId = randomUUID();
    const event = received(leadId);
    await tallies.create({ _id: leadId, revision: 1, processedEventIds: [], count: 0, outbox: [{ ...event, createdAt: new Date(Date.now() - 10_000) }] });
    // A publisher that counts: the stream's duplicate window would hide a second publish here, but
    // not after an outage longer than the window.
    const publishes: string[] = [];
    const counting = Object.assign(Object.create(publisher) as EventPublisher, {
      publish: (e: typeof event) => {
        publishes.push(e.eventId);
        return publisher.publish(e);
      },
    });
    const link = new StoreLink();
    await link.open();
    const linked = new MongoStore(link.url, store.connection.name, logger);
    const linkedTallies = linked.connection.model('TallyOverLink', tallies.schema, 'tallies');
    const linkedOutbox = new Outbox(counting, nats, metrics, logger, 500);
    linkedOutbox.track(linkedTallies);
    linked.start();
    try {
      await linked.ready();
      await link.cut();
      expect(await linkedOutbox.flush(linkedTallies, leadId, [event])).toBe(false);
      expect(publishes).toEqual([event.eventId]);
      await link.open();
      await linked.ready();
      await until('the relay cleared the entry', async () => {
        await linkedOutbox.relay();
        return ((await tallies.findById(leadId).lean())?.outbox.length ?? 1) === 0;
      });
      expect(publishes).toEqual([event.eventId]);
    } finally {
      await linked.close();
      await link.cut();
    }
  }, 60_000);
});
