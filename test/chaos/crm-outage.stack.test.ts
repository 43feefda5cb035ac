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
    // Every routing owner's HubSpot owner id (the mapping writes hubspot_owner_id).
    env: { HUBSPOT_OWNER_MAP_FILE: join(ROOT, 'services', 'crm-sync', 'mappings', 'hubspot-owners.example.yaml') },
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

    s.sim.setFaults({ outage: false, rateLimit: { count: STORM, retryAfterSeconds: 1 } });
    const leads = await stream.finish(Math.max(LEADS, stream.submitted + 10));
    expect(stream.failures).toEqual([]);
    expect(await settleAndAudit(s, leads, { timeoutMs: SETTLE_MS })).toEqual([]);
    // The storm was met and sat out, not skipped.
    expect(s.sim.counters().byStatus['429']).toBe(STORM);
    expect(s.sim.faults().rateLimit?.count).toBe(0);
  }, TEST_MS);
});
