// The CRM down for a minute, then a storm of HubSpot 429s, while leads keep arriving: the backlog
// waits in JetStream, drains after recovery, and every lead is in the CRM exactly once.
import { join } from 'node:path';
import { ROOT, grpcAddress } from '../harness/stack.ts';
import { LEADS, LeadStream, RATE, SETTLE_MS, TEST_MS, eventually, sleep, startChaosStack, type ChaosStack } from './support.ts';
import { settleAndAudit } from './verify.ts';

const NAMESPACE = 'chaos-crm';
const OFFSET = 880;
/** The minute; CHAOS_CRM_OUTAGE_MS shortens it for a quick local run. */
const OUTAGE_MS = Number(process.env.CHAOS_CRM_OUTAGE_MS ?? 60_000);
const STORM = 60;
let stack: ChaosStack | undefined;

beforeAll(async () => {
  // HubSpot answers rate limits with a real 429 and Retry-After (Salesforce sends 403s).
  stack = await startChaosStack({
    namespace: NAMESPACE,
    portOffset: OFFSET,
    crm: 'hubspot',
    env: {
      // Mapping v1's owner directory; v2 and later take each owner's HubSpot id from the events.
      HUBSPOT_OWNER_MAP_FILE: join(ROOT, 'services', 'crm-sync', 'mappings', 'hubspot-owners.example.yaml'),
      // crm-sync's own defaults for the recovery path, not the fast test ones: the 30 s recovery is
      // asserted for the patience production runs with (short backoff, 5 s half-open, 2 s probe).
      CRM_SYNC_BACKOFF_MS: '500,1000,2000,5000',
      CRM_BREAKER_HALF_OPEN_AFTER_MS: '5000',
      CRM_PROBE_INTERVAL_MS: '2000',
      CRM_OUTAGE_WAIT_MS: '25000',
    },
  });
}, 300_000);

afterAll(async () => {
  await stack?.stopAll();
}, 60_000);

describe('the CRM down for a minute, then a 429 storm', () => {
  it('loses and duplicates no lead, and the backlog drains', async () => {
    const s = stack!;
    const stream = new LeadStream(NAMESPACE, [grpcAddress('intake', OFFSET)], RATE).start();
    await eventually('the first leads in the CRM', () => (s.sim.records('hubspot').length >= 5 ? true : undefined), 180_000);

    s.sim.setFaults({ outage: true });
    const down = Date.now();
    await eventually('crm-sync meeting the outage', () => ((s.sim.counters().byStatus['503'] ?? 0) > 0 ? true : undefined), OUTAGE_MS);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
    const inCrmDuringOutage = s.sim.records('hubspot').length;
    expect(stream.submitted).toBeGreaterThan(inCrmDuringOutage);

    // The CRM answers again: crm-sync resumes on the probe that finds it back (a probe interval and
    // the breaker's half-open delay), not after each event's own backoff. How long the whole backlog
    // then takes is the pipeline's throughput (FerretDB with CONSUMER_CONCURRENCY=8 here), measured
    // and printed, not asserted: on this shared 2-core machine two runs after a 31 s outage took 98 s
    // (130 leads) and 28 s (132 leads), resuming 4-6 s after the CRM's return both times.
    const backlog = stream.accepted.map((l) => l.leadId);
    const before = new Set(s.sim.records('hubspot').map((c) => c.properties.leadmesh_lead_id));
    s.sim.setFaults({ outage: false });
    const up = Date.now();
    const inCrm = () => new Set(s.sim.records('hubspot').map((c) => c.properties.leadmesh_lead_id));
    await eventually('the first backlog lead in the CRM', () => (backlog.some((id) => !before.has(id) && inCrm().has(id)) ? true : undefined), 60_000, 100);
    const resumedMs = Date.now() - up;
    await eventually('the outage backlog in the CRM', () => (backlog.every((id) => inCrm().has(id)) ? true : undefined), 240_000, 250);
    const drainedMs = Date.now() - up;
    console.log(JSON.stringify({ outageMs: up - down, backlog: backlog.length, resumedMs, drainedMs }));
    expect(backlog.length).toBeGreaterThan(inCrmDuringOutage);
    expect(resumedMs).toBeLessThan(10_000);

    s.sim.setFaults({ rateLimit: { count: STORM, retryAfterSeconds: 1 } });
    const leads = await stream.finish(Math.max(LEADS, stream.submitted + 10));
    expect(stream.failures).toEqual([]);
    expect(await settleAndAudit(s, leads, { timeoutMs: SETTLE_MS })).toEqual([]);
    // The storm was met and sat out, not skipped.
    expect(s.sim.counters().byStatus['429']).toBe(STORM);
    expect(s.sim.faults().rateLimit?.count).toBe(0);
  }, TEST_MS);
});
