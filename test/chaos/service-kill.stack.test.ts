// kill -9 of each of the five services, one at a time, while leads keep arriving; each comes back
// on the same ports and namespace. Afterwards every lead is in every store exactly once.
import { SERVICES, grpcAddress } from '../harness/stack.ts';
import { LEADS, LeadStream, RATE, SETTLE_MS, TEST_MS, eventually, startChaosStack, type ChaosStack } from './support.ts';
import { settleAndAudit } from './verify.ts';

const NAMESPACE = 'chaos-kill';
const OFFSET = 800;
let stack: ChaosStack | undefined;

beforeAll(async () => {
  stack = await startChaosStack({ namespace: NAMESPACE, portOffset: OFFSET });
}, 300_000);

afterAll(async () => {
  await stack?.stopAll();
}, 60_000);

describe('each service killed with SIGKILL mid-stream', () => {
  it('loses no lead and applies every effect once', async () => {
    const s = stack!;
    const stream = new LeadStream(NAMESPACE, [grpcAddress('intake', OFFSET)], RATE).start();
    for (const name of SERVICES) {
      const before = stream.submitted;
      // Some leads reach the service between kills, so every kill lands on work in flight.
      await eventually(`leads flowing before killing ${name}`, () => (stream.submitted >= before + 15 ? true : undefined), 120_000, 100);
      await s.killAndRestart(name);
    }
    const leads = await stream.finish(Math.max(LEADS, stream.submitted + 10));
    expect(stream.failures).toEqual([]);
    expect(leads.length).toBeGreaterThanOrEqual(LEADS);
    expect(await settleAndAudit(s, leads, { allowInterruptedEmail: true, timeoutMs: SETTLE_MS })).toEqual([]);
  }, TEST_MS);
});
