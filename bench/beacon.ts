// The beacon door's benchmark: activities per second through POST /v1/activities, batched as the
// browser tracker sends them, with the five services running and consuming (a share of the
// visitors are leads, so their activities go on as activity.recorded to scoring). Open loop at a
// fixed rate, so a slow door shows as latency and a backlog, not as a politely lower rate.
//
//   flock /tmp/leadmesh-stack.lock node_modules/.bin/node bench/beacon.ts [--rate 600] [--seconds 60] [--batch 10] [--visitors 2000] [--known 0.1]
//
// Needs `npm run build` and the local infrastructure (npm run infra -- up). Writes
// bench/results/beacon.md. Not a test: it measures and reports; the target is 500 activities/s.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startCrmSimulator } from '../test/fixtures/crm-simulator/index.ts';
import { waitServing } from '../test/harness/health.ts';
import { ROOT, SERVICES, allScopes, createStackAuth, grpcAddress, httpUrl, startStack, stopStack } from '../test/harness/stack.ts';
import { createClient } from '../packages/platform/dist/index.js';
import { intake } from '../packages/contracts/dist/index.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '600' },
    seconds: { type: 'string', default: '60' },
    batch: { type: 'string', default: '10' },
    visitors: { type: 'string', default: '2000' },
    known: { type: 'string', default: '0.1' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BATCH = Number(values.batch);
const VISITORS = Number(values.visitors);
const KNOWN = Number(values.known);
const OFFSET = 730;
const NAMESPACE = `bench-beacon-${randomBytes(3).toString('hex')}`;
const SITE_KEY = 'pk_bench_beacon_site';
const ORIGIN = 'https://www.example-analytics.com';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const URL_BASE = `${httpUrl('intake', OFFSET)}/v1/activities?site_key=${SITE_KEY}`;

const auth = await createStackAuth();
const simulator = await startCrmSimulator({ port: 8090 + OFFSET, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
const services = startStack({
  namespace: NAMESPACE,
  portOffset: OFFSET,
  auth,
  logDir: `${ROOT}/.cache/logs/${NAMESPACE}`,
  env: {
    TRACKER_SITE_KEYS: JSON.stringify({ [SITE_KEY]: [ORIGIN] }),
    // Every simulated browser comes from this one address: its limit would be the benchmark's.
    BEACON_ADDRESS_LIMIT_PER_MINUTE: String(RATE * 120),
    SALESFORCE_LOGIN_URL: `http://127.0.0.1:${8090 + OFFSET}`,
    HUBSPOT_BASE_URL: `http://127.0.0.1:${8090 + OFFSET}`,
  },
});
const mongo = new MongoClient('mongodb://127.0.0.1:27017/');
try {
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, OFFSET), 90_000)));
  await mongo.connect();
  const token = await auth.token(await allScopes(), 'team:bench');
  const client = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token, timeoutMs: 10_000 });
  const visitors = Array.from({ length: VISITORS }, (_, i) => `bench-${NAMESPACE}-${i}`);
  // A share of the visitors are leads already: their activities go through the pipeline.
  const known = Math.round(VISITORS * KNOWN);
  for (let i = 0; i < known; i++) {
    await client.submitLead({ visitorId: visitors[i], contact: { email: `bench.${i}.${NAMESPACE}@example-analytics.com`, jobTitle: 'Engineer', companySize: 120 }, source: { formId: 'contact-sales' } });
  }
  client.close();

  const batchesPerSecond = RATE / BATCH;
  const total = Math.round(batchesPerSecond * SECONDS);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const started = performance.now();
  const send = async (n: number) => {
    const visitorId = visitors[n % VISITORS]!;
    const body = JSON.stringify({
      visitorId,
      activities: Array.from({ length: BATCH }, (_, i) => ({ activityId: `${n}-${i}-${NAMESPACE}`, type: i === 0 ? 'PRICING_PAGE_VIEW' : 'PAGE_VIEW', url: `${ORIGIN}/page-${i}`, occurredAt: new Date().toISOString() })),
    });
    const t0 = performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const res = await fetch(URL_BASE, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain', 'user-agent': UA }, body });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    } catch {
      statuses.set(0, (statuses.get(0) ?? 0) + 1);
    } finally {
      inFlight--;
      latencies.push(performance.now() - t0);
    }
  };
  const pending: Promise<void>[] = [];
  // Open loop: batch n leaves at n / batchesPerSecond, whatever the answers before it did.
  while (next < total) {
    const due = started + (next / batchesPerSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(next++));
  }
  const sentFor = (performance.now() - started) / 1000;
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  const stored = await mongo.db(`leadmesh_${NAMESPACE.replace(/-/g, '_')}_intake`).collection('activities').countDocuments({});
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  const ok = statuses.get(202) ?? 0;
  const lines = [
    `# Beacon door benchmark (${new Date().toISOString()})`,
    '',
    `Command: \`flock /tmp/leadmesh-stack.lock node_modules/.bin/node bench/beacon.ts --rate ${RATE} --seconds ${SECONDS} --batch ${BATCH} --visitors ${VISITORS} --known ${KNOWN}\``,
    `Machine: ${cpus().length} cores, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}; five services running, ${known} of ${VISITORS} visitors leads.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| offered | ${RATE} activities/s in batches of ${BATCH} (${batchesPerSecond.toFixed(1)} beacons/s) for ${SECONDS} s |`,
    `| accepted (202) | ${ok} of ${total} beacons; other answers ${JSON.stringify(Object.fromEntries([...statuses].filter(([s]) => s !== 202)))} |`,
    `| stored | ${stored} activities in ${elapsed.toFixed(1)} s: **${(stored / elapsed).toFixed(0)} activities/s sustained** (offered over ${sentFor.toFixed(1)} s) |`,
    `| beacon latency | p50 ${pct(50)} ms, p90 ${pct(90)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; at most ${maxInFlight} in flight |`,
  ];
  console.log(lines.join('\n'));
  writeFileSync(`${ROOT}/bench/results/beacon.md`, `${lines.join('\n')}\n`);
} finally {
  await mongo.close().catch(() => undefined);
  await stopStack(services);
  await simulator.close();
}
process.exit(0);
