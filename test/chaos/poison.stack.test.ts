// Undecodable bytes on every subject a service consumes: each consumer parks the message in the
// dead-letter stream with its error, and the leads before and after it flow on; each service lists
// and replays its own parked events over gRPC.
import { fromBinary } from '@bufbuild/protobuf';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { SUBJECTS, events, parkedevents } from '@leadmesh/contracts';
import { EVENT_ID_HEADER, HEADER_CONSUMER, HEADER_DEAD_LETTER_ERROR, HEADER_ORIGINAL_SUBJECT, createClient, topology } from '@leadmesh/platform';
import { SERVICES, grpcAddress } from '../harness/stack.ts';
import { LEADS, LeadStream, RATE, SETTLE_MS, TEST_MS, connectBroker, eventually, startChaosStack, type ChaosStack } from './support.ts';
import { settleAndAudit } from './verify.ts';

const NAMESPACE = 'chaos-poison';
const OFFSET = 850;
let stack: ChaosStack | undefined;

// The durable consumers the five services have today, by the subject they read. The test also
// finds any consumer added later from the stream itself, and poisons its subject too.
const KNOWN: Record<string, { schema: Parameters<typeof fromBinary>[0]; durables: string[] }> = {
  [SUBJECTS.leadReceived]: { schema: events.LeadReceivedSchema, durables: ['scoring-lead-received', 'nurture-lead-received'] },
  [SUBJECTS.activityRecorded]: { schema: events.ActivityRecordedSchema, durables: ['scoring-activity-recorded'] },
  [SUBJECTS.leadScored]: { schema: events.LeadScoredSchema, durables: ['routing-lead-scored', 'nurture-lead-scored', 'crm-sync-lead-scored'] },
  [SUBJECTS.leadRouted]: { schema: events.LeadRoutedSchema, durables: ['nurture-lead-routed', 'crm-sync-lead-routed'] },
  [SUBJECTS.nurtureEnrolled]: { schema: events.NurtureEnrolledSchema, durables: ['crm-sync-nurture-enrolled'] },
  [SUBJECTS.leadReassigned]: { schema: events.LeadReassignedSchema, durables: ['crm-sync-lead-reassigned'] },
  [SUBJECTS.leadUnsubscribed]: { schema: events.LeadUnsubscribedSchema, durables: ['crm-sync-lead-unsubscribed'] },
};
// Field 1 with wire type 7, which no protobuf decoder accepts, then a truncated varint.
const POISON = Uint8Array.from([0x0f, 0xff, 0xff, 0xff]);

beforeAll(async () => {
  stack = await startChaosStack({ namespace: NAMESPACE, portOffset: OFFSET });
}, 300_000);

afterAll(async () => {
  await stack?.stopAll();
}, 60_000);

describe('a poison message in every consumer', () => {
  it('is dead-lettered with its error by each consumer while the good leads flow on', async () => {
    const s = stack!;
    for (const { schema } of Object.values(KNOWN)) expect(() => fromBinary(schema, POISON)).toThrow();
    const t = topology(NAMESPACE);
    const broker = await connectBroker(s.natsUrl);
    const poisonIds = new Set<string>();
    try {
      const knownDurables = Object.values(KNOWN).flatMap((k) => k.durables);
      const consumers = await eventually('every service\'s consumers', async () => {
        const list = await broker.jsm.consumers.list(t.pipelineStream).next();
        const found = list.map((c) => ({ durable: c.name, subject: c.config.filter_subject ?? '' }));
        return knownDurables.every((d) => found.some((c) => c.durable === d)) ? found : undefined;
      });
      const stream = new LeadStream(NAMESPACE, [grpcAddress('intake', OFFSET)], RATE).start();
      await eventually('half the leads submitted', () => (stream.submitted >= LEADS / 2 ? true : undefined), 300_000, 200);
      for (const subject of new Set(consumers.map((c) => c.subject))) {
        const id = `poison:${subject}`;
        poisonIds.add(id);
        const headers = natsHeaders();
        headers.set(EVENT_ID_HEADER, id);
        await broker.js.publish(subject, POISON, { msgID: id, headers });
      }
      const leads = await stream.finish(LEADS);
      expect(stream.failures).toEqual([]);
      expect(await settleAndAudit(s, leads, { timeoutMs: SETTLE_MS, ignoreEventIds: poisonIds })).toEqual([]);

      const expected = [...consumers];
      const parked = await eventually(
        'every consumer to park its poison message',
        async () => {
          const info = await broker.jsm.streams.info(t.deadLetterStream);
          const found: Array<{ durable: string; subject: string; error: string; bytes: number[] }> = [];
          for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
            const msg = await broker.jsm.streams.getMessage(t.deadLetterStream, { seq }).catch(() => null);
            if (!msg) continue;
            found.push({ durable: msg.header.get(HEADER_CONSUMER), subject: msg.header.get(HEADER_ORIGINAL_SUBJECT), error: msg.header.get(HEADER_DEAD_LETTER_ERROR), bytes: [...msg.data] });
          }
          return found.length >= expected.length ? found : undefined;
        },
        120_000,
        1000,
      );
      expect(parked.map(({ durable, subject }) => ({ durable, subject })).sort((a, b) => a.durable.localeCompare(b.durable))).toEqual(
        expected.sort((a, b) => a.durable.localeCompare(b.durable)),
      );
      for (const letter of parked) {
        expect(letter.error).toMatch(/payload is not a valid leadmesh\.events\.v1\./);
        expect(letter.bytes).toEqual([...POISON]);
      }

      // Each service lists exactly what its own consumers parked, through the one API all five
      // serve; a replay of poison fails again and leaves it parked.
      for (const service of SERVICES) {
        const client = createClient(parkedevents.ParkedEventsService, grpcAddress(service, OFFSET), { timeoutMs: 10_000 });
        try {
          const own = parked.filter((p) => p.durable.startsWith(`${service}-`)).map((p) => p.durable).sort();
          const listed = await client.listParkedEvents({ pageSize: 100 });
          expect({ service, consumers: listed.parkedEvents.map((p) => p.consumer).sort() }).toEqual({ service, consumers: own });
          for (const p of listed.parkedEvents) expect(p.error).toMatch(/payload is not a valid/);
          const replay = await client.replayParkedEvents({ target: { case: 'all', value: true } });
          expect({ service, replayed: replay.replayed, failed: replay.failed }).toEqual({ service, replayed: 0, failed: own.length });
          expect((await client.listParkedEvents({ pageSize: 100 })).parkedEvents).toHaveLength(own.length);
        } finally {
          client.close();
        }
      }
    } finally {
      await broker.close();
    }
  }, TEST_MS);
});
