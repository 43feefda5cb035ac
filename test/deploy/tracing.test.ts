// Where a lead's trace goes in a cluster: the services export every span, the collector keeps
// whole traces by tail sampling (every trace at marketing volumes; errors and slow ones whatever the
// volume), and Jaeger stores them in Badger on a persistent volume. The Jaeger configuration and
// the collector's sampling policies are validated by the real Jaeger binary (Jaeger v2 is an
// OpenTelemetry Collector distribution and bundles the same tail_sampling processor), the same
// version as the image the cluster runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { SERVICES, containerEnv, k8sTools, kustomizeBuild, parseObjects, podTemplates, repoRoot, selectorMatches, type K8sObject } from './k8s-tools.js';

const ENVIRONMENTS = ['dev', 'qa', 'stage', 'prod'] as const;
const rendered = new Map<string, K8sObject[]>();
let jaegerBin: string;
let scratch: string;

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

beforeAll(() => {
  const tools = k8sTools();
  for (const env of ENVIRONMENTS) rendered.set(env, parseObjects(kustomizeBuild(tools, `deploy/k8s/overlays/${env}`)));
  // The local servers' binaries (tools/infra), built once and cached; Jaeger is one of them.
  const built = run('bash', [join(repoRoot, 'scripts/infra.sh'), 'bin']);
  if (built.status !== 0) throw new Error(`could not build the local servers:\n${built.output}`);
  jaegerBin = join(built.output.trim().split('\n').at(-1)!, 'jaeger');
  scratch = mkdtempSync(join(tmpdir(), 'leadmesh-tracing-'));
}, 900_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const prod = () => rendered.get('prod')!;
const configMap = (objects: K8sObject[], prefix: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(prefix))!;
const jaegerConfigText = () => configMap(prod(), 'jaeger-config').data['config.yaml'] as string;
const collectorConfig = () => parse(configMap(prod(), 'otel-collector-config').data['config.yaml']) as any;

/** `jaeger validate` on a configuration: strict, an unknown or misspelt key fails. */
function validate(name: string, config: string): void {
  const file = join(scratch, name);
  writeFileSync(file, config);
  const { status, output } = run(jaegerBin, ['validate', '--config', `file:${file}`]);
  if (status !== 0 || /error|invalid/i.test(output)) throw new Error(`${name} is not valid:\n${output}`);
}

test('the validation used below refuses a misspelt key', () => {
  expect(() => validate('misspelt.yaml', jaegerConfigText().replace('ephemeral: false', 'ephemeral_: false'))).toThrow(/ephemeral_/);
});

describe('Jaeger', () => {
  test('its configuration is valid and stores traces in Badger, on disk, for 30 days', () => {
    validate('jaeger.yaml', jaegerConfigText());
    const config = parse(jaegerConfigText()) as any;
    const backends = config.extensions.jaeger_storage.backends;
    const store = config.extensions.jaeger_query.storage.traces;
    expect(config.exporters.jaeger_storage_exporter.trace_storage).toBe(store);
    expect(Object.keys(backends)).toEqual([store]);
    expect(backends[store].badger.ephemeral).toBe(false);
    expect(backends[store].badger.ttl.spans).toBe('720h');
  });

  test('Badger\'s directories are on a PersistentVolumeClaim, which one pod at a time owns', () => {
    for (const [env, objects] of rendered) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'jaeger')!;
      expect({ env, replicas: deployment.spec.replicas, strategy: deployment.spec.strategy.type }).toEqual({ env, replicas: 1, strategy: 'Recreate' });
      const pod = deployment.spec.template.spec;
      const claimVolume = pod.volumes.find((v: any) => v.persistentVolumeClaim);
      const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === claimVolume?.persistentVolumeClaim.claimName);
      expect(claim?.spec.accessModes).toEqual(['ReadWriteOnce']);
      const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === claimVolume.name).mountPath as string;
      const { keys, values } = (Object.values((parse(configMap(objects, 'jaeger-config').data['config.yaml']) as any).extensions.jaeger_storage.backends)[0] as any).badger.directories;
      for (const dir of [keys, values]) expect(dir.startsWith(`${mount}/`)).toBe(true);
      // The image runs as 10001: the volume must be its group's.
      expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    }
  });
});

describe('the collector', () => {
  test('its sampling policies are valid for the tail_sampling processor and keep errors and slow traces', () => {
    const { tail_sampling } = collectorConfig().processors;
    validate('tail-sampling.yaml', stringify({
      receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' } } } },
      processors: { tail_sampling },
      exporters: { nop: {} },
      service: { pipelines: { traces: { receivers: ['otlp'], processors: ['tail_sampling'], exporters: ['nop'] } } },
    }));
    const policies = tail_sampling.policies as any[];
    expect(policies.find((p) => p.type === 'status_code')?.status_code.status_codes).toEqual(['ERROR']);
    expect(policies.find((p) => p.type === 'latency')?.latency.threshold_ms).toBeGreaterThan(0);
    // At marketing volumes everything is kept: a lead is about 100 spans, and the budget is for
    // more leads a second than the pipeline handles.
    expect(policies.find((p) => p.type === 'rate_limiting')?.rate_limiting.spans_per_second).toBeGreaterThanOrEqual(100 * 20);
    // A late span follows its trace's decision.
    expect(tail_sampling.decision_cache.sampled_cache_size).toBeGreaterThan(0);
  });

  test('routes each trace by its id to one replica, which samples it and sends what it keeps to Jaeger', () => {
    const config = collectorConfig();
    const pipelines = Object.values(config.service.pipelines) as { receivers: string[]; processors: string[]; exporters: string[] }[];
    const sampling = pipelines.filter((p) => p.processors.includes('tail_sampling'));
    expect(sampling).toHaveLength(1);
    expect(sampling[0]!.exporters.map((e) => config.exporters[e]?.endpoint)).toEqual(['jaeger:4317']);
    // What the services send goes through the load balancer first, never straight to Jaeger.
    const fromServices = pipelines.filter((p) => p.receivers.includes('otlp'));
    expect(fromServices).toHaveLength(1);
    expect(fromServices[0]!.exporters).toEqual(['loadbalancing']);
    const { loadbalancing } = config.exporters;
    expect(loadbalancing.routing_key).toBe('traceID');
    // The resolver's name is a headless Service of the collector pods, on the port the sampling
    // pipeline's receiver listens on.
    const objects = prod();
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === loadbalancing.resolver.dns.hostname)!;
    expect(service.spec.clusterIP).toBe('None');
    const collectorPods = podTemplates(objects).filter((t) => selectorMatches({ matchLabels: service.spec.selector }, t.labels));
    expect(collectorPods.map((t) => t.owner.metadata.name)).toEqual(['otel-collector']);
    const port = Number(loadbalancing.resolver.dns.port);
    expect(service.spec.ports.map((p: any) => p.port)).toEqual([port]);
    const receiver = sampling[0]!.receivers.map((r) => config.receivers[r]?.protocols?.grpc?.endpoint);
    expect(receiver).toEqual([`0.0.0.0:${port}`]);
    expect(collectorPods[0]!.spec.containers[0].ports.map((p: any) => p.containerPort)).toContain(port);
    // And the network lets the replicas reach each other there.
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'otel-collector')!;
    const fromCollector = policy.spec.ingress.find((r: any) => r.from.some((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'otel-collector'));
    expect(fromCollector?.ports.map((p: any) => p.port)).toEqual([port]);
    const toCollector = policy.spec.egress.find((r: any) => r.to.some((t: any) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'otel-collector'));
    expect(toCollector?.ports.map((p: any) => p.port)).toEqual([port]);
  });

  test('the services export every span in every environment, so the collector is the one that samples', () => {
    for (const [env, objects] of rendered) {
      const deployments = objects.filter((o) => o.kind === 'Deployment' && (SERVICES as readonly string[]).includes(o.metadata.name));
      expect(deployments).toHaveLength(SERVICES.length);
      for (const deployment of deployments) {
        const settings = containerEnv(objects, deployment.spec.template.spec.containers[0]);
        expect({ env, service: deployment.metadata.name, ratio: settings.get('OTEL_TRACES_SAMPLER_ARG')?.value }).toEqual({ env, service: deployment.metadata.name, ratio: '1.0' });
      }
    }
  });
});
