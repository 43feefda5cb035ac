// Memory under a sustained backlog, per service: `npm run build && bash scripts/infra.sh up`, then
//   node_modules/.bin/node bench/memory-probe.ts [seconds]        (default 40)
// Starts the five services (namespace memprobe, port offset 700), lets them idle, then keeps 32
// SubmitLead calls in flight for the given time, sampling each service's RSS, its peak (VmHWM) and
// its V8 heap every 10 s, and once more 20 s after the load. The CRM is left unreachable, so crm-sync
// retries instead of syncing: the point is a backlog in every consumer, not throughput. Set
// NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 and SNAPSHOT=<service> for a heap snapshot at the end
// (written in services/<service>/). This is the probe behind the memory figures in history.md.
import { readFileSync } from 'node:fs';
import { createClient } from '../packages/platform/dist/index.js';
import { intake } from '../packages/contracts/dist/index.js';
import { waitServing } from '../test/harness/health.ts';
import { grpcAddress, METRICS_PORTS, SERVICES, startStack, stopStack } from '../test/harness/stack.ts';
import { contactSalesLead } from './leads.ts';

const PORT_OFFSET = 700;
const seconds = Number(process.argv[2] ?? 40);
const namespace = `memprobe${Date.now() % 100_000}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round(bytes / 1_048_576);

const services = startStack({
  namespace,
  portOffset: PORT_OFFSET,
  env: { SALESFORCE_LOGIN_URL: 'http://127.0.0.1:1', HUBSPOT_BASE_URL: 'http://127.0.0.1:1' },
});
const peak: Record<string, number> = {};

async function sample(phase: string): Promise<void> {
  const row = [phase.padEnd(6)];
  for (const s of services) {
    const status = readFileSync(`/proc/${s.process.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    peak[s.name] = mb(kb('VmHWM'));
    const metrics = await fetch(`http://127.0.0.1:${METRICS_PORTS[s.name] + PORT_OFFSET}/metrics`).then((r) => r.text(), () => '');
    const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
    row.push(`${s.name} rss ${mb(kb('VmRSS'))} peak ${peak[s.name]} heap ${mb(gauge('nodejs_heap_size_used_bytes'))}/${mb(gauge('nodejs_heap_size_total_bytes'))} MB`);
  }
  console.log(row.join(' | '));
}

try {
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, PORT_OFFSET), 90_000)));
  await sleep(15_000);
  await sample('idle');
  const client = createClient(intake.IntakeService, grpcAddress('intake', PORT_OFFSET), { timeoutMs: 10_000 });
  let submitted = 0;
  const until = Date.now() + seconds * 1000;
  const timer = setInterval(() => void sample('load'), 10_000);
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (Date.now() < until) await client.submitLead(contactSalesLead(namespace, submitted++)).catch(() => undefined);
    }),
  );
  clearInterval(timer);
  await sleep(20_000);
  await sample('after');
  console.log(`submitted ${submitted} leads; peak RSS (MB) ${JSON.stringify(peak)}`);
  const target = services.find((s) => s.name === process.env.SNAPSHOT);
  if (target) {
    target.process.kill('SIGUSR2');
    await sleep(30_000);
  }
} finally {
  await stopStack(services);
}
