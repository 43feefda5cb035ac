// Two replicas of every service in one namespace: the durable consumers share the events between
// the replicas, and each event's effect still lands once.
import { METRICS_PORTS, SERVICES, grpcAddress } from '../harness/stack.ts';
import { LEADS, LeadStream, RATE, SETTLE_MS, TEST_MS, counterValue, startChaosStack, type ChaosStack } from './support.ts';
import { settleAndAudit } from './verify.ts';

const NAMESPACE = 'chaos-replicas';
// Each replica set at its own offset, so crm-sync's peers (from its own offset) are consistent.
const OFFSETS = [860, 870];
let stack: ChaosStack | undefined;

// The consumers every lead passes through; the others (activity, reassignment, unsubscribe) see no events here.
const BUSY_CONSUMERS: Array<[(typeof SERVICES)[number], string]> = [
  ['scoring', 'scoring-lead-received'],
  ['routing', 'routing-lead-scored'],
  ['nurture', 'nurture-lead-received'],
  ['nurture', 'nurture-lead-scored'],
  ['nurture', 'nurture-lead-routed'],
  ['crm-sync', 'crm-sync-lead-routed'],
];

beforeAll(async () => {
  stack = await startChaosStack({ namespace: NAMESPACE, portOffset: OFFSETS[0]!, replicaOffsets: OFFSETS.slice(1) });
}, 420_000);

afterAll(async () => {
  await stack?.stopAll();
}, 60_000);

describe('two replicas of every service', () => {
  it('share the work and apply every effect once', async () => {
    const s = stack!;
    const stream = new LeadStream(NAMESPACE, OFFSETS.map((o) => grpcAddress('intake', o)), RATE).start();
    const leads = await stream.finish(LEADS);
    expect(stream.failures).toEqual([]);
    expect(await settleAndAudit(s, leads, { timeoutMs: SETTLE_MS })).toEqual([]);

    const handled: Record<string, number[]> = {};
    for (const [service, durable] of BUSY_CONSUMERS) {
      handled[durable] = await Promise.all(
        OFFSETS.map((o) => counterValue(`http://127.0.0.1:${METRICS_PORTS[service] + o}/metrics`, 'leadmesh_events_handled_total', { consumer: durable, outcome: 'ack' })),
      );
    }
    // Both replicas of each consumer acknowledged events, and together at least one per lead.
    for (const [durable, counts] of Object.entries(handled)) {
      expect({ durable, bothWorked: counts.every((n) => n > 0) }).toEqual({ durable, bothWorked: true });
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(leads.length);
    }
    // Both intakes took submissions.
    expect(new Set(leads.map((l) => l.index % OFFSETS.length)).size).toBe(OFFSETS.length);
  }, TEST_MS);
});
