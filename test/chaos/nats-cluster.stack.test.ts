// A 3-node JetStream cluster on loopback with the pipeline stream replicated three times; the
// stream's leader is killed mid-stream and stays down. Two nodes keep the quorum and every lead arrives.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topology } from '@leadmesh/platform';
import { grpcAddress } from '../harness/stack.ts';
import { NatsNode } from './infra.ts';
import { LEADS, LeadStream, RATE, SETTLE_MS, TEST_MS, connectBroker, eventually, startChaosStack, type ChaosStack } from './support.ts';
import { settleAndAudit } from './verify.ts';

const NAMESPACE = 'chaos-cluster';
const OFFSET = 820;
const work = mkdtempSync(join(tmpdir(), 'leadmesh-chaos-cluster-'));
const clusterPorts = [0, 1, 2].map((i) => 6222 + OFFSET + i);
const nodes = [0, 1, 2].map(
  (i) => new NatsNode({ dir: join(work, `n${i}`), port: 4222 + OFFSET + i, name: `chaos-n${i}`, cluster: { port: clusterPorts[i]!, peers: clusterPorts.filter((_, j) => j !== i) } }),
);
const natsUrl = nodes.map((n) => n.url).join(',');
let stack: ChaosStack | undefined;

beforeAll(async () => {
  await Promise.all(nodes.map((n) => n.start()));
  // JetStream answers once the cluster has elected its meta leader.
  const broker = await connectBroker(natsUrl);
  try {
    await eventually('the JetStream cluster', () => broker.jsm.getAccountInfo().then(() => true), 60_000);
  } finally {
    await broker.close();
  }
  stack = await startChaosStack({ namespace: NAMESPACE, portOffset: OFFSET, natsUrl, env: { NATS_STREAM_REPLICAS: '3' } });
}, 300_000);

afterAll(async () => {
  await stack?.stopAll();
  await Promise.all(nodes.map((n) => n.kill()));
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('a JetStream cluster losing a node mid-stream', () => {
  it('keeps every lead with the stream replicated on three nodes', async () => {
    const s = stack!;
    const t = topology(NAMESPACE);
    const broker = await connectBroker(natsUrl);
    try {
      const info = await broker.jsm.streams.info(t.pipelineStream);
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas?.length).toBe(2);

      const stream = new LeadStream(NAMESPACE, [grpcAddress('intake', OFFSET)], RATE).start();
      await eventually('a third of the leads submitted', () => (stream.submitted >= LEADS / 3 ? true : undefined), 300_000, 200);
      // The stream's leader is the node whose loss hurts most.
      const leader = (await broker.jsm.streams.info(t.pipelineStream)).cluster?.leader;
      const victim = nodes.find((n) => n.options.name === leader)!;
      expect(victim).toBeDefined();
      await victim.kill();
      await eventually('a new stream leader', async () => {
        const now = (await broker.jsm.streams.info(t.pipelineStream)).cluster?.leader;
        return now && now !== leader ? now : undefined;
      }, 60_000, 1000);

      const leads = await stream.finish(Math.max(LEADS, stream.submitted + 10));
      expect(stream.failures).toEqual([]);
      expect(await settleAndAudit(s, leads, { timeoutMs: SETTLE_MS })).toEqual([]);
    } finally {
      await broker.close();
    }
  }, TEST_MS);
});
