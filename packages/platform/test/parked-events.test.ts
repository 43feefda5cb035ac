// Parked events against the real NATS: an event that fails on its own merits is parked by its
// consumer; the service lists it (lead, error, consumer) among its own parked events only, and a
// replay after the cause is fixed applies it once and takes it out of the dead-letter stream.
import { randomUUID } from 'node:crypto';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { EventConsumers, EventPublisher, Metrics, NatsClient, ParkedEvents, createLogger, encodeEvent, ensureStreams, topology } from '@leadmesh/platform';

const namespace = `parked-${randomUUID().slice(0, 8)}`;
const logger = createLogger('parked-events-test', 'silent');
const metrics = new Metrics('parked-events-test');
const nats = new NatsClient('nats://127.0.0.1:4222', 'parked-events-test', logger, topology(namespace));
const publisher = new EventPublisher(nats);
const options = { maxDeliver: 2, backoffMs: [50], concurrency: 4, ackWaitMs: 5000 };

const received = (leadId: string) =>
  encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, { eventId: `lead.received:${randomUUID()}`, leadId, occurredAt: timestampNow(), submissionId: randomUUID(), newLead: true });

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  nats.start();
  await nats.ready();
  await ensureStreams(nats.jsm, nats.topology);
});

afterAll(async () => {
  await nats.jsm.streams.delete(nats.topology.pipelineStream).catch(() => undefined);
  await nats.jsm.streams.delete(nats.topology.deadLetterStream).catch(() => undefined);
  await nats.jsm.streams.delete(`KV_${nats.topology.contactKeysBucket}`).catch(() => undefined);
  await nats.close();
});

describe('parked events', () => {
  it('lists what this service parked, and a replay applies it once and removes it', async () => {
    // Scoring's consumer refuses leads whose rule "throws" until the rule is fixed; routing's
    // consumer, in another service, parks one of its own that scoring must not show.
    const refused = new Set<string>();
    const applied: string[] = [];
    const scoringConsumers = new EventConsumers(nats, metrics, logger, options);
    scoringConsumers.register({
      durable: 'scoring-test-lead-received',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: async (event) => {
        if (refused.has(event.leadId)) throw new Error('rule "fit.country" threw: no such field');
        applied.push(event.leadId);
      },
    });
    const routingConsumers = new EventConsumers(nats, metrics, logger, options);
    routingConsumers.register({
      durable: 'routing-test-lead-received',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: async () => {
        throw new Error('routing refuses everything in this test');
      },
    });
    const scoringMetrics = new Metrics('scoring');
    const scoringParked = new ParkedEvents(nats, scoringConsumers, logger, scoringMetrics);
    const routingParked = new ParkedEvents(nats, routingConsumers, logger, new Metrics('routing'));
    // What the dead-letters alert reads: the events each consumer has waiting, after any replays.
    const waiting = async () => {
      await scoringParked.reportCounts();
      const gauge = await scoringMetrics.parkedEvents.get();
      return gauge.values.map((v) => [v.labels.consumer, v.value]);
    };

    const [good, bad1, bad2] = [randomUUID(), randomUUID(), randomUUID()];
    refused.add(bad1).add(bad2);
    scoringConsumers.start();
    routingConsumers.start();
    try {
      for (const leadId of [good, bad1, bad2]) await publisher.publish(received(leadId));
      const listed = await until('scoring parked both refused leads', async () => {
        const page = await scoringParked.list(10, '');
        return page.parkedEvents.length === 2 && page;
      });
      await until('routing parked all three of its own', async () => (await routingParked.list(10, '')).parkedEvents.length === 3);

      expect(listed.parkedEvents.map((p) => p.leadId).sort()).toEqual([bad1, bad2].sort());
      expect(listed.parkedEvents[0]).toMatchObject({ consumer: 'scoring-test-lead-received', subject: SUBJECTS.leadReceived, error: 'rule "fit.country" threw: no such field', deliveries: 2 });
      expect(applied).toEqual([good]);
      expect(await waiting()).toEqual([['scoring-test-lead-received', 2]]);

      // Pages: one at a time, in stream order, then no more.
      const first = await scoringParked.list(1, '');
      const second = await scoringParked.list(1, first.nextPageToken);
      expect([first.parkedEvents[0]!.leadId, second.parkedEvents[0]!.leadId, second.nextPageToken]).toEqual([listed.parkedEvents[0]!.leadId, listed.parkedEvents[1]!.leadId, '']);

      // One lead's rule is fixed: replay it by sequence; the other still fails and stays parked.
      refused.delete(bad1);
      const bad1Parked = listed.parkedEvents.find((p) => p.leadId === bad1)!;
      expect(await scoringParked.replay({ sequence: Number(bad1Parked.sequence) })).toMatchObject({ replayed: 1, failed: 0 });
      const all = await scoringParked.replay({ all: true });
      expect(all).toMatchObject({ replayed: 0, failed: 1 });
      expect(all.stillParked.map((p) => p.leadId)).toEqual([bad2]);
      expect(applied).toEqual([good, bad1]);
      expect((await scoringParked.list(10, '')).parkedEvents.map((p) => p.leadId)).toEqual([bad2]);
      expect(await waiting()).toEqual([['scoring-test-lead-received', 1]]);

      // Another service's parked event is not this service's to replay.
      const routingSequence = Number((await routingParked.list(1, '')).parkedEvents[0]!.sequence);
      await expect(scoringParked.replay({ sequence: routingSequence })).rejects.toThrow(/not found|parked event/i);
    } finally {
      await scoringConsumers.stop();
      await routingConsumers.stop();
    }
  }, 60_000);
});
