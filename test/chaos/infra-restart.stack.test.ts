// NATS killed and restarted on the same port and JetStream store, then FerretDB killed and
// restarted on the same data, both while leads keep arriving. These are private servers of this
// test (the shared ones on 4222 and 27017 are left alone).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpcAddress } from '../harness/stack.ts';
import { FerretNode, NatsNode } from './infra.ts';
import { LEADS, LeadStream, RATE, SETTLE_MS, TEST_MS, eventually, sleep, startChaosStack, type ChaosStack } from './support.ts';
import { settleAndAudit } from './verify.ts';

const NAMESPACE = 'chaos-infra';
const OFFSET = 810;
const work = mkdtempSync(join(tmpdir(), 'leadmesh-chaos-infra-'));
const nats = new NatsNode({ dir: join(work, 'nats'), port: 4222 + OFFSET, name: 'chaos-infra' });
const ferret = new FerretNode(join(work, 'ferret'), 27017 + OFFSET);
let stack: ChaosStack | undefined;

beforeAll(async () => {
  await nats.start();
  await ferret.start();
  stack = await startChaosStack({ namespace: NAMESPACE, portOffset: OFFSET, natsUrl: nats.url, mongoUrl: ferret.url });
}, 300_000);

afterAll(async () => {
  await stack?.stopAll();
  await nats.kill();
  await ferret.kill();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('NATS and FerretDB restarted mid-stream', () => {
  it('loses no lead and applies every effect once', async () => {
    const s = stack!;
    const stream = new LeadStream(NAMESPACE, [grpcAddress('intake', OFFSET)], RATE).start();
    const after = (n: number) => eventually(`${n} leads submitted`, () => (stream.submitted >= n ? true : undefined), 300_000, 200);

    await after(LEADS / 4);
    await nats.kill();
    await sleep(3000);
    await nats.start();

    await after(LEADS / 2);
    await ferret.kill();
    await sleep(3000);
    await ferret.start();

    const leads = await stream.finish(Math.max(LEADS, stream.submitted + 10));
    expect(stream.failures).toEqual([]);
    // Some callers met the outages and retried with the same idempotency key.
    expect(leads.some((l) => l.calls > 1)).toBe(true);
    expect(await settleAndAudit(s, leads, { timeoutMs: SETTLE_MS })).toEqual([]);
  }, TEST_MS);
});
