// The alert rules on a real Prometheus against a real service: Prometheus scrapes scoring (started as
// its container runs it), sees it up and SERVING, and when scoring stops, ServiceDown goes pending.
// Prometheus runs from this test with its own configuration pointing at this test's port offset,
// so it depends neither on the shared Prometheus nor on the services it scrapes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { METRICS_PORTS, ROOT, grpcAddress, startService, stopService, type RunningService } from '../harness/stack.ts';

const OFFSET = 960;
const NAMESPACE = 'monitoring';
const PROMETHEUS = `127.0.0.1:${9090 + OFFSET}`;
const work = mkdtempSync(join(tmpdir(), 'leadmesh-monitoring-'));

let prometheus: ChildProcess | undefined;
let scoring: RunningService | undefined;

interface Alert { labels: Record<string, string>; state: string }

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`http://${PROMETHEUS}/api/v1/${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

const scoringTarget = async () =>
  (await api<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] }>('targets?state=active')).activeTargets
    .find((t) => t.labels.service === 'scoring');

const serviceDown = async () =>
  (await api<{ alerts: Alert[] }>('alerts')).alerts.find((a) => a.labels.alertname === 'ServiceDown' && a.labels.service === 'scoring');

beforeAll(async () => {
  const built = spawnSync('bash', [join(ROOT, 'scripts/infra.sh'), 'prometheus-bin'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`could not build Prometheus: ${built.stderr}`);
  const bin = built.stdout.trim().split('\n').at(-1)!;
  // The local configuration's job and labels, at this test's offset, scraped and evaluated every
  // second so the test waits on seconds rather than the local 5 s.
  writeFileSync(join(work, 'prometheus.yaml'), [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    `rule_files: ['${join(ROOT, 'deploy/monitoring/leadmesh.rules.yaml')}']`,
    'scrape_configs:',
    '  - job_name: leadmesh',
    '    honor_labels: true',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${METRICS_PORTS.scoring + OFFSET}']`,
    '        labels: {service: scoring}',
    '',
  ].join('\n'));
  prometheus = spawn(join(bin, 'prometheus'), [
    `--config.file=${join(work, 'prometheus.yaml')}`,
    `--storage.tsdb.path=${join(work, 'data')}`,
    `--web.listen-address=${PROMETHEUS}`,
  ], { stdio: 'ignore' });
  scoring = startService('scoring', { namespace: NAMESPACE, portOffset: OFFSET, logDir: `${ROOT}/.cache/logs/${NAMESPACE}` });
  await waitServing(grpcAddress('scoring', OFFSET));
}, 120_000);

afterAll(async () => {
  if (scoring) await stopService(scoring);
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    const exited = once(prometheus, 'exit');
    prometheus.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

test('Prometheus sees scoring up and SERVING, and ServiceDown goes pending once it stops', async () => {
  await eventually('the scoring target up', async () => ((await scoringTarget())?.health === 'up' ? true : undefined), 30_000, 250);
  // The serving gauge as scraped, not just the target: 1 while the health service says SERVING.
  const serving = await eventually('leadmesh_serving scraped', async () => {
    const { result } = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `query?query=${encodeURIComponent('leadmesh_serving{job="leadmesh", service="scoring"}')}`,
    );
    return result[0]?.value[1];
  }, 30_000, 250);
  expect(serving).toBe('1');
  expect(await serviceDown()).toBeUndefined();

  await stopService(scoring!);

  const alert = await eventually('ServiceDown for scoring', serviceDown, 30_000, 250);
  // `for: 1m`: pending first, firing only after a minute down, which this test does not wait for.
  expect(alert.state).toBe('pending');
  expect(alert.labels).toMatchObject({ severity: 'page', job: 'leadmesh', service: 'scoring', instance: `127.0.0.1:${METRICS_PORTS.scoring + OFFSET}` });
  expect((await scoringTarget())?.health).toBe('down');
}, 120_000);
