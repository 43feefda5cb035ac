// The alert rules as code: the real promtool checks them and runs their unit tests, every alert is
// tested both firing and quiet, every series a rule reads is one the services export (names, label
// values and buckets taken from the code, not from a list kept here), and the Kubernetes objects say
// the same as the files the local Prometheus loads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';
import { crmsync, intake, nurture, parkedevents, routing, scoring } from '@leadmesh/contracts';
import { EMAIL_SEND_OUTCOMES, Metrics } from '../../packages/platform/src/metrics.js';
import { TRACK_KINDS } from '../../services/nurture/src/domain/tracks.js';
import { PROMETHEUS_RULE_FILE, RULES_FILE, prometheusRuleFrom } from '../../scripts/monitoring-rules.js';
import { SERVICES, k8sTools, kustomizeBuild, parseObjects, podTemplates, repoRoot, selectorMatches, type K8sObject } from './k8s-tools.js';

// The minute-by-minute tests, and the three-day slow-burn ones evaluated hourly.
const RULE_TEST_FILES = ['leadmesh.rules.test.yaml', 'leadmesh.slo.test.yaml'].map((f) => join(repoRoot, 'deploy/monitoring', f));
const DASHBOARD_FILE = join(repoRoot, 'deploy/k8s/components/monitoring/dashboards/leadmesh-flow.json');
const LOCAL_CONFIG = join(repoRoot, 'deploy/local/prometheus.yaml');

interface Selector { metric: string; matchers: { label: string; op: string; value: string }[] }
interface RuleSelectors { group: string; alert?: string; record?: string; selectors: Selector[] }

let bin: string;

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

beforeAll(() => {
  // Built from tools/prometheus on first use (minutes on a fresh machine), cached after.
  const built = run('bash', [join(repoRoot, 'scripts/infra.sh'), 'prometheus-bin']);
  if (built.status !== 0) throw new Error(`could not build Prometheus:\n${built.output}`);
  bin = built.output.trim().split('\n').at(-1)!;
}, 900_000);

const rules = () => parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string; annotations?: Record<string, string> }[] }[] };
const alertNames = () => rules().groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));

describe('promtool', () => {
  test('checks the rules file', () => {
    const { status, output } = run(join(bin, 'promtool'), ['check', 'rules', RULES_FILE]);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  test('checks the local Prometheus configuration with the rules it loads', () => {
    const { status, output } = run(join(bin, 'promtool'), ['check', 'config', LOCAL_CONFIG]);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  test('passes every rule unit test', () => {
    // Both files load the rules and run, not one of them silently skipped.
    for (const file of RULE_TEST_FILES) expect(parse(readFileSync(file, 'utf8')).rule_files).toEqual(['leadmesh.rules.yaml']);
    const { status, output } = run(join(bin, 'promtool'), ['test', 'rules', ...RULE_TEST_FILES]);
    if (status !== 0) throw new Error(output);
    expect(output.match(/SUCCESS/g)).toHaveLength(RULE_TEST_FILES.length);
  }, 120_000);
});

test('every alert has a test that makes it fire and one that keeps it quiet', () => {
  const tests = RULE_TEST_FILES.flatMap((file) => (parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }).tests)
    .flatMap((t) => t.alert_rule_test ?? []);
  const alerts = alertNames();
  expect(alerts.length).toBeGreaterThan(10);
  const untested = alerts.flatMap((alert) => {
    const cases = tests.filter((t) => t.alertname === alert);
    return [
      ...(cases.some((t) => (t.exp_alerts ?? []).length > 0) ? [] : [`${alert} never fires`]),
      ...(cases.some((t) => (t.exp_alerts ?? []).length === 0) ? [] : [`${alert} is never shown quiet`]),
    ];
  });
  expect(untested).toEqual([]);
  // And no test names an alert that does not exist.
  expect(tests.map((t) => t.alertname).filter((name) => !alerts.includes(name))).toEqual([]);
});

test('every alert points to its runbook entry in the README', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const entries = new Set([...readme.matchAll(/^#### (\w+)$/gm)].map((m) => m[1]!.toLowerCase()));
  const missing = rules().groups.flatMap((g) => g.rules).filter((r) => r.alert)
    .filter((r) => !entries.has(/^README\.md#(\w+)$/.exec(r.annotations?.runbook ?? '')?.[1] ?? ''))
    .map((r) => r.alert);
  expect(missing).toEqual([]);
});

/** Every query of the dashboard's panels, with where it is. */
function dashboardQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: { title: string; targets?: { refId: string; expr: string }[] }[] };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ where: `${panel.title} ${t.refId}`, expr: t.expr })));
}

describe('what the rules and the dashboard read is what the services export', () => {
  /** What the rules read; with it, what the dashboard's queries read (each parsed as a recording rule). */
  let ofRules: RuleSelectors[];
  let selectors: RuleSelectors[];
  let exported: Map<string, { labels: Set<string>; le: Set<string> }>;

  beforeAll(async () => {
    const out = run(join(bin, 'rule-selectors'), [RULES_FILE]);
    if (out.status !== 0) throw new Error(out.output);
    ofRules = JSON.parse(out.output) as RuleSelectors[];
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    const scratch = mkdtempSync(join(tmpdir(), 'leadmesh-dashboard-'));
    try {
      const file = join(scratch, 'dashboard.rules.yaml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })) }] }));
      const parsed = run(join(bin, 'rule-selectors'), [file]);
      if (parsed.status !== 0) throw new Error(`a dashboard query does not parse as PromQL:\n${parsed.output}`);
      const dashboard = (JSON.parse(parsed.output) as RuleSelectors[]).map((r, i) => ({ ...r, record: undefined, alert: `dashboard panel ${queries[i]!.where}` }));
      selectors = [...ofRules, ...dashboard];
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }

    // The registry every service serves, as the platform builds it, and the label names each of
    // the platform's instruments declares (the registry adds `service` to all of them).
    const metrics = new Metrics('intake');
    const instruments = new Map<string, readonly string[]>();
    // A labelled histogram exports no bucket until a series of it is observed or zeroed, so its
    // bounds are read from the instrument as well.
    const bounds = new Map<string, readonly number[]>();
    for (const value of Object.values(metrics)) {
      if (value && typeof value === 'object' && 'name' in value && 'labelNames' in value) instruments.set(String(value.name), value.labelNames as readonly string[]);
      if (value && typeof value === 'object' && 'name' in value && 'upperBounds' in value) bounds.set(String(value.name), value.upperBounds as readonly number[]);
    }
    exported = new Map();
    for (const family of await metrics.registry.getMetricsAsJSON()) {
      const labelNames = new Set(['service', ...(instruments.get(family.name) ?? [])]);
      const le = new Set([...family.values.map((v) => v.labels.le).filter((v) => v !== undefined), ...(bounds.get(family.name) ?? [])].map(String));
      const names = family.type === 'histogram' ? [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`]
        : family.type === 'summary' ? [family.name, `${family.name}_sum`, `${family.name}_count`] : [family.name];
      for (const name of names) exported.set(name, { labels: name.endsWith('_bucket') ? new Set([...labelNames, 'le']) : labelNames, le });
    }
  });

  const recorded = () => new Set(ofRules.flatMap((r) => (r.record ? [r.record] : [])));

  test('every metric a rule reads is exported by the services, recorded by a rule, or Prometheus\'s own up', () => {
    const known = (metric: string) => exported.has(metric) || recorded().has(metric) || metric === 'up';
    const unknown = selectors.flatMap((r) => r.selectors.filter((s) => !known(s.metric)).map((s) => `${r.alert ?? r.record}: ${s.metric}`));
    expect(unknown).toEqual([]);
    // Not vacuous: the rules do read the services' metrics.
    expect(ofRules.flatMap((r) => r.selectors).filter((s) => exported.has(s.metric)).length).toBeGreaterThan(20);
    expect(selectors.filter((r) => r.alert?.startsWith('dashboard panel')).flatMap((r) => r.selectors).filter((s) => exported.has(s.metric)).length).toBeGreaterThan(10);
  });

  test('every label a rule matches on a service metric is one that metric carries', () => {
    const wrong = selectors.flatMap((r) => r.selectors.filter((s) => exported.has(s.metric)).flatMap((s) =>
      s.matchers.filter((m) => !exported.get(s.metric)!.labels.has(m.label)).map((m) => `${r.alert ?? r.record}: ${s.metric}{${m.label}}`)));
    expect(wrong).toEqual([]);
  });

  test('every label value a rule matches is one the code can produce', () => {
    const sources = SERVICES.flatMap((service) => sourceFiles(join(repoRoot, 'services', service, 'src')))
      .concat(sourceFiles(join(repoRoot, 'packages/platform/src')))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    // A consumer name is written as a durable's, as a metric label, or as a named constant.
    const consumers = new Set([...sources.matchAll(/(?:durable: |consumer: |_CONSUMER = )'([a-z-]+)'/g)].map((m) => m[1]!));
    const outcomes = new Set([...sources.matchAll(/outcome: '([a-z_]+)'/g)].map((m) => m[1]!).concat(EMAIL_SEND_OUTCOMES));
    const methods = new Set(
      [intake.IntakeService, scoring.ScoringService, routing.RoutingService, nurture.NurtureService, crmsync.CrmSyncService, parkedevents.ParkedEventsService]
        .flatMap((api) => api.methods.map((method) => `${api.name}/${method.name}`)),
    );
    const allowed: Record<string, (value: string) => boolean> = {
      service: (v) => (SERVICES as readonly string[]).includes(v),
      consumer: (v) => consumers.has(v),
      outcome: (v) => outcomes.has(v),
      method: (v) => methods.has(v),
      code: (v) => v in grpc.status && Number.isNaN(Number(v)),
      job: (v) => v === 'leadmesh',
      kind: (v) => (TRACK_KINDS as readonly string[]).includes(v),
    };
    const wrong: string[] = [];
    for (const rule of selectors) {
      for (const s of rule.selectors) {
        for (const m of s.matchers) {
          const values = m.op === '=~' || m.op === '!~' ? m.value.split('|') : [m.value];
          const ok = m.label === 'le' ? bucketMatches(m, exported.get(s.metric)?.le ?? new Set()) : values.every((v) => allowed[m.label]?.(v) ?? false);
          if (!ok) wrong.push(`${rule.alert ?? rule.record}: ${s.metric}{${m.label}${m.op}"${m.value}"}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

/**
 * A bucket matcher must find a bucket the code declares both as the service writes its bound ("60")
 * and as Prometheus 3 stores it (normalised to a float, "60.0"), or the rule reads nothing there.
 */
function bucketMatches(m: { op: string; value: string }, bounds: Set<string>): boolean {
  const forms = (bound: string) => [bound, Number.isInteger(Number(bound)) ? Number(bound).toFixed(1) : bound];
  const matches = (text: string) => (m.op === '=~' ? new RegExp(`^(?:${m.value})$`).test(text) : m.op === '=' && text === m.value);
  return [...bounds].some((bound) => forms(bound).every(matches));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => join(dir, f));
}

describe('deploy/k8s/components/monitoring', () => {
  let objects: K8sObject[];
  let scratch: string;

  beforeAll(() => {
    const tools = k8sTools();
    scratch = mkdtempSync(join(tmpdir(), 'leadmesh-monitoring-'));
    writeFileSync(join(scratch, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'namespace: leadmesh-monitoring-test',
      'resources:',
      `  - ${relative(scratch, join(repoRoot, 'deploy/k8s/base'))}`,
      'components:',
      `  - ${relative(scratch, join(repoRoot, 'deploy/k8s/components/monitoring'))}`,
      '',
    ].join('\n'));
    objects = parseObjects(kustomizeBuild(tools, scratch));
  }, 900_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('the PrometheusRule is generated from the rules file and not edited by hand', () => {
    expect(readFileSync(PROMETHEUS_RULE_FILE, 'utf8')).toBe(prometheusRuleFrom(readFileSync(RULES_FILE, 'utf8')));
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    expect(rule?.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule?.spec.groups).toEqual(rules().groups);
  });

  test('the PodMonitor scrapes the metrics port of every service pod, with the labels the rules read', () => {
    const monitor = objects.find((o) => o.kind === 'PodMonitor');
    expect(monitor?.apiVersion).toBe('monitoring.coreos.com/v1');
    const scraped = podTemplates(objects).filter((t) => selectorMatches(monitor!.spec.selector, t.labels));
    expect(scraped.map((t) => t.owner.metadata.name).sort()).toEqual([...SERVICES].sort());
    for (const { spec } of scraped) expect(spec.containers[0].ports.some((p: any) => p.name === 'metrics')).toBe(true);
    const [endpoint] = monitor!.spec.podMetricsEndpoints;
    expect(endpoint.port).toBe('metrics');
    expect(endpoint.honorLabels).toBe(true);
    expect(endpoint.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'leadmesh' });
    expect(endpoint.relabelings).toContainEqual({ sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], targetLabel: 'service' });
  });

  test('the dashboard is a ConfigMap that Grafana\'s sidecar loads', () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('leadmesh-grafana-dashboards'));
    expect(configMap?.metadata.labels?.grafana_dashboard).toBe('1');
    const dashboard = JSON.parse(configMap!.data['leadmesh-flow.json']);
    expect(dashboard.uid).toBe('leadmesh-flow');
    expect(dashboard.panels.filter((p: any) => p.type !== 'row').every((p: any) => p.targets.length > 0)).toBe(true);
  });

  test('the local Prometheus scrapes the same services under the same job', () => {
    const config = parse(readFileSync(LOCAL_CONFIG, 'utf8')) as { scrape_configs: { job_name: string; honor_labels?: boolean; static_configs: { labels: { service: string } }[] }[] };
    const job = config.scrape_configs.find((c) => c.job_name === 'leadmesh');
    expect(job?.honor_labels).toBe(true);
    expect(job!.static_configs.map((c) => c.labels.service).sort()).toEqual([...SERVICES].sort());
  });
});
