// A service that loses its broker or its store says NOT_SERVING, keeps the leads it accepted and
// recovers by itself. Intake runs against a NATS and a FerretDB of this test's own, so they can be
// killed and restarted without touching the shared ones.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { intake } from '@leadmesh/contracts';
import { NatsClient, createClient, createLogger, topology } from '@leadmesh/platform';
import { healthStatus, waitServing } from '../harness/health.ts';
import { INFRA_BIN as bin, ferretdbArgs } from '../harness/servers.ts';
import { natsLock } from '../chaos/infra.ts';
import { grpcAddress, startService, stopService, type RunningService } from '../harness/stack.ts';

const NATS_PORT = 4299;
const MONGO_PORT = 27099;
const OFFSET = 50;
const NAMESPACE = 'resilience';

const work = mkdtempSync(join(tmpdir(), 'leadmesh-resilience-'));
let nats: ChildProcess | undefined;
let ferret: ChildProcess | undefined;
let service: RunningService;
const client = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { timeoutMs: 6000 });

function startNats(): ChildProcess {
  // Locked as the shared server is (TLS, the services' own users).
  const lock = natsLock(work);
  writeFileSync(join(work, 'nats.conf'), [`listen: 127.0.0.1:${NATS_PORT}`, `jetstream { store_dir: "${join(work, 'nats')}" }`, ...lock.lines, ''].join('\n'));
  return spawn(join(bin, 'nats-server'), ['-c', join(work, 'nats.conf')], { stdio: 'ignore', env: { ...process.env, ...lock.env } });
}

function startFerret(): ChildProcess {
  return spawn(join(bin, 'ferretdb'), ferretdbArgs(MONGO_PORT, join(work, 'ferret')), { stdio: 'ignore' });
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function waitStatus(expected: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await healthStatus(grpcAddress('intake', OFFSET));
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`intake health stayed ${last}, expected ${expected}`);
}

const lead = (tag: string) => ({
  idempotencyKey: `resilience-${tag}-${Date.now()}`,
  contact: { email: `resilience.${tag}.${Date.now()}@example.org`, lastName: 'Resilient', company: 'Outage Inc' },
});

beforeAll(async () => {
  execFileSync('mkdir', ['-p', join(work, 'nats'), join(work, 'ferret')]);
  nats = startNats();
  ferret = startFerret();
  service = startService('intake', {
    namespace: NAMESPACE,
    portOffset: OFFSET,
    logDir: join(work, 'logs'),
    env: { NATS_URL: `nats://127.0.0.1:${NATS_PORT}`, MONGO_URL: `mongodb://127.0.0.1:${MONGO_PORT}/` },
  });
  await waitServing(grpcAddress('intake', OFFSET), 60_000);
}, 90_000);

afterAll(async () => {
  client.close();
  await stopService(service);
  await kill(nats);
  await kill(ferret);
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('intake without its broker or its store', () => {
  it('reports NOT_SERVING while NATS is down, keeps the lead it accepts, and publishes it once NATS is back', async () => {
    await kill(nats);
    await waitStatus('NOT_SERVING');

    const accepted = await client.submitLead(lead('nats-down'));
    expect(accepted.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);

    nats = startNats();
    await waitStatus('SERVING');

    // The outbox relay finishes the publish: the event is in the stream, once.
    const observer = new NatsClient(`nats://127.0.0.1:${NATS_PORT}`, 'resilience-test', createLogger('test', 'silent'), topology(NAMESPACE));
    observer.start();
    await observer.ready();
    try {
      const eventId = `lead.received:${accepted.submissionId}`;
      const deadline = Date.now() + 20_000;
      let copies = 0;
      while (Date.now() < deadline) {
        const info = await observer.jsm.streams.info(observer.topology.pipelineStream);
        copies = 0;
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
          const msg = await observer.jsm.streams.getMessage(observer.topology.pipelineStream, { seq }).catch(() => null);
          if (msg?.header.get('Leadmesh-Event-Id') === eventId) copies++;
        }
        if (copies > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(copies).toBe(1);
    } finally {
      await observer.close();
    }
  }, 90_000);

  it('reports NOT_SERVING and answers UNAVAILABLE while the store is down, then recovers', async () => {
    await kill(ferret);
    await waitStatus('NOT_SERVING');
    await expect(client.submitLead(lead('store-down'))).rejects.toMatchObject({ code: status.UNAVAILABLE });

    ferret = startFerret();
    await waitStatus('SERVING', 60_000);
    const accepted = await client.submitLead(lead('store-back'));
    expect(accepted.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
    const { lead: stored } = await client.getLead({ leadId: accepted.leadId });
    expect(stored?.profile?.contact?.company).toBe('Outage Inc');
  }, 120_000);
});
