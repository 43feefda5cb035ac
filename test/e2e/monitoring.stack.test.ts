// The alert rules on a real Prometheus against the real services: Prometheus scrapes the five (started
// as their containers run them) and sees every one up and SERVING; a lead submitted shows in the
// submission-to-CRM histogram the CRM objective is measured by; a replica that cannot reach its
// broker makes ServiceNotServing go pending, and a stopped service ServiceDown. A lead's
// confirmation email shows in the histogram the confirmation objective is measured by, and its
// SMTP span in the lead's trace in the real Jaeger. Prometheus runs from
// this test with its own configuration at this test's port offsets, so it depends neither on the
// shared Prometheus nor on whatever the shared one scrapes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { intake } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { startCrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { eventually } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { fetchTrace, spanTag } from '../harness/jaeger.ts';
import {
  METRICS_PORTS, ROOT, SERVICES, createStackAuth, grpcAddress, startService, startStack, stopService, stopStack, type RunningService, type Service,
} from '../harness/stack.ts';

const OFFSET = 960;
const NAMESPACE = 'monitoring';
const CRM_PORT = 8090 + OFFSET;
const PROMETHEUS = `127.0.0.1:${9090 + OFFSET}`;
// A second routing, on ports of its own, pointed at a NATS that is not there.
const STRANDED_OFFSET = OFFSET + 5;
const STRANDED = `127.0.0.1:${METRICS_PORTS.routing + STRANDED_OFFSET}`;
const NO_NATS = 'nats://127.0.0.1:4961';
const work = mkdtempSync(join(tmpdir(), 'leadmesh-monitoring-'));

let prometheus: ChildProcess | undefined;
let services: RunningService[] = [];
let stranded: RunningService | undefined;
let simulator: Awaited<ReturnType<typeof startCrmSimulator>> | undefined;
const auth = await createStackAuth();
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token: await auth.token(['leads:submit']), timeoutMs: 10_000 });

const instance = (service: Service) => `127.0.0.1:${METRICS_PORTS[service] + OFFSET}`;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`http://${PROMETHEUS}/api/v1/${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  return (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`query?query=${encodeURIComponent(promql)}`)).result;
}

const alert = async (name: string, labels: Record<string, string>) =>
  (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts')).alerts
    .find((a) => a.labels.alertname === name && Object.entries(labels).every(([k, v]) => a.labels[k] === v));

beforeAll(async () => {
  const built = spawnSync('bash', [join(ROOT, 'scripts/infra.sh'), 'prometheus-bin'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`could not build Prometheus: ${built.stderr}`);
  const bin = built.stdout.trim().split('\n').at(-1)!;
  // The local configuration's job and labels at this test's offsets, scraped and evaluated every
  // second so the test waits seconds rather than the local 15 s.
  const target = (address: string, service: Service) => [`      - targets: ['${address}']`, `        labels: {service: ${service}}`];
  writeFileSync(join(work, 'prometheus.yaml'), [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    `rule_files: ['${join(ROOT, 'deploy/monitoring/leadmesh.rules.yaml')}']`,
    'scrape_configs:',
    '  - job_name: leadmesh',
    '    honor_labels: true',
    '    static_configs:',
    ...SERVICES.flatMap((s) => target(instance(s), s)),
    ...target(STRANDED, 'routing'),
    '',
  ].join('\n'));
  prometheus = spawn(join(bin, 'prometheus'), [
    `--config.file=${join(work, 'prometheus.yaml')}`,
    `--storage.tsdb.path=${join(work, 'data')}`,
    `--web.listen-address=${PROMETHEUS}`,
  ], { stdio: 'ignore' });
  simulator = await startCrmSimulator({ port: CRM_PORT, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  const logDir = `${ROOT}/.cache/logs/${NAMESPACE}`;
  services = startStack({
    namespace: NAMESPACE,
    portOffset: OFFSET,
    auth,
    logDir,
    env: { SALESFORCE_LOGIN_URL: `http://127.0.0.1:${CRM_PORT}`, HUBSPOT_BASE_URL: `http://127.0.0.1:${CRM_PORT}`, NURTURE_PUBLIC_URL: `http://127.0.0.1:${8084 + OFFSET}` },
  });
  stranded = startService('routing', { namespace: `${NAMESPACE}-stranded`, portOffset: STRANDED_OFFSET, auth, logDir: `${logDir}-stranded`, env: { NATS_URL: NO_NATS } });
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, OFFSET), 90_000)));
}, 150_000);

afterAll(async () => {
  intakeClient.close();
  await stopStack(services);
  if (stranded) await stopService(stranded);
  await simulator?.close();
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    const exited = once(prometheus, 'exit');
    prometheus.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

test('Prometheus sees all five services up and SERVING', async () => {
  const serving = await eventually('all five scraped and SERVING', async () => {
    const result = await query('leadmesh_serving{job="leadmesh"} == 1 and on(instance) up{job="leadmesh"} == 1');
    const byService = Object.fromEntries(result.map((r) => [r.metric.service, r.metric.instance]));
    return SERVICES.every((s) => byService[s] === instance(s)) ? byService : undefined;
  }, 60_000, 250);
  expect(Object.keys(serving).sort()).toEqual([...SERVICES].sort());
}, 90_000);

test('a lead submitted is observed in the submission-to-CRM histogram', async () => {
  // The namespace's streams outlive a run, so a run that died could leave a lead for this one's
  // crm-sync: compare before and after rather than expect exact totals.
  const value = async (promql: string) => Number((await query(promql))[0]?.value[1] ?? 0);
  const series = (suffix: string) => `leadmesh_lead_submission_to_crm_seconds_${suffix}{service="crm-sync"}`;
  const before = { count: await value(series('count')), sum: await value(series('sum')) };
  const tag = `${Date.now()}`;
  const submitted = await intakeClient.submitLead({
    idempotencyKey: `monitoring-${tag}`,
    contact: { email: `grace.${tag}@example-analytics.com`, firstName: 'Grace', lastName: 'Hopper', company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'Germany', companySize: 800 },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing' },
    consent: { emailMarketing: true, wordingVersion: '2026-01' },
  });
  expect(submitted.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
  // Generous: on a loaded 2-core machine a fresh stack's first lead can take a minute.
  await eventually('the lead in the histogram', async () => ((await value(series('count'))) > before.count ? true : undefined), 90_000, 500);
  // Measured from the submission: some time, and less than the five minutes this test cannot have
  // waited.
  expect(await value(series('sum'))).toBeGreaterThan(before.sum);
  // Found by its bound rather than its label: Prometheus 3 stores le="300" as "300.0".
  const buckets = await query(series('bucket'));
  expect(Number(buckets.find((b) => Number(b.metric.le) === 300)?.value[1])).toBeGreaterThanOrEqual(1);
  // And the CRM objective's recorded ratio reads these series as Prometheus stored them (a bucket
  // matcher that missed them would leave it empty).
  // NaN (0/0) until an evaluation's 5 minutes hold the lead.
  const ratio = await eventually('the CRM objective\'s ratio recorded', async () => {
    const value = Number((await query('leadmesh:lead_crm_slow:ratio_rate5m'))[0]?.value[1]);
    return Number.isNaN(value) ? undefined : value;
  }, 30_000, 500);
  expect(ratio).toBeGreaterThanOrEqual(0);
  expect(ratio).toBeLessThanOrEqual(1);
}, 120_000);

test('a lead\'s confirmation email is observed in the confirmation objective\'s histogram, and its SMTP span is in the lead\'s trace', async () => {
  const value = async (promql: string) => Number((await query(promql))[0]?.value[1] ?? 0);
  const sent = 'sum(leadmesh_email_send_delay_seconds_count{service="nurture", kind="TRANSACTIONAL"})';
  const before = await value(sent);
  const traceId = randomBytes(16).toString('hex');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  const tag = `${Date.now()}`;
  const submitted = await intakeClient.submitLead({
    idempotencyKey: `monitoring-email-${tag}`,
    contact: { email: `ada.${tag}@example-analytics.com`, firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics', jobTitle: 'CTO', country: 'Germany', companySize: 800 },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing' },
  }, { metadata });
  expect(submitted.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
  // The previous test's lead gets a confirmation too and may be the one counted here; the trace
  // below is this lead's own.
  await eventually('the confirmation in the histogram', async () => ((await value(sent)) > before ? true : undefined), 90_000, 500);
  // The objective's recorded ratio reads the series as Prometheus stored them: NaN (0/0) until an
  // evaluation's 5 minutes hold a send, empty if a matcher missed them.
  const ratio = await eventually('the confirmation objective\'s ratio recorded', async () => {
    const recorded = Number((await query('leadmesh:confirmation_email_late:ratio_rate5m'))[0]?.value[1]);
    return Number.isNaN(recorded) ? undefined : recorded;
  }, 30_000, 500);
  expect(ratio).toBeGreaterThanOrEqual(0);
  expect(ratio).toBeLessThanOrEqual(1);
  // Nothing failed: the failure counter is there, at zero, for EmailSendsFailing to read.
  expect((await query('leadmesh_email_sends_total{service="nurture", kind="TRANSACTIONAL", outcome="failed"}')).map((r) => r.value[1])).toEqual(['0']);

  // One trace from SubmitLead to the SMTP server: nurture's smtp send span, for this lead, in it.
  const smtp = await eventually('the SMTP span in the lead\'s trace in Jaeger', async () => {
    const trace = await fetchTrace(traceId);
    return trace?.spans.find((s) => s.operationName === 'smtp send');
  }, 45_000, 250);
  expect(spanTag(smtp, 'leadmesh.lead_id')).toBe(submitted.leadId);
  expect(spanTag(smtp, 'leadmesh.nurture.track_id')).toBe('contact-sales-confirmation');
}, 150_000);

test('a replica that cannot reach its broker is scraped but NOT_SERVING, and ServiceNotServing goes pending', async () => {
  // Not awaited in beforeAll (it never becomes SERVING): on a loaded machine it may still be starting.
  const pending = await eventually('ServiceNotServing for the stranded routing', () => alert('ServiceNotServing', { instance: STRANDED }), 60_000, 250);
  // `for: 2m`: pending first, firing only after two minutes, which this test does not wait for.
  expect(pending.state).toBe('pending');
  expect(pending.labels).toMatchObject({ severity: 'page', service: 'routing', job: 'leadmesh' });
  // The routing of the stack, with its broker, is not named.
  expect(await alert('ServiceNotServing', { instance: instance('routing') })).toBeUndefined();
  const [up] = await query(`up{instance="${STRANDED}"}`);
  expect(up?.value[1]).toBe('1');
}, 90_000);

test('a stopped service makes ServiceDown go pending', async () => {
  expect(await alert('ServiceDown', { service: 'scoring' })).toBeUndefined();
  await stopService(services.find((s) => s.name === 'scoring')!);
  const down = await eventually('ServiceDown for scoring', () => alert('ServiceDown', { service: 'scoring' }), 30_000, 250);
  // `for: 1m`: pending first.
  expect(down.state).toBe('pending');
  expect(down.labels).toMatchObject({ severity: 'page', job: 'leadmesh', instance: instance('scoring') });
}, 60_000);
