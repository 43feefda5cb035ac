// Runs the pinned Kubernetes tooling (scripts/k8s-tools.sh) and turns rendered manifests into plain
// objects the tests can inspect.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICES = ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] as const;
export type Service = (typeof SERVICES)[number];
export const GRPC_PORTS: Record<Service, number> = { intake: 50051, scoring: 50052, routing: 50053, nurture: 50054, 'crm-sync': 50055 };
export const METRICS_PORTS: Record<Service, number> = { intake: 9461, scoring: 9462, routing: 9463, nurture: 9464, 'crm-sync': 9465 };
/** The HTTP doors: intake's web form, nurture's unsubscribe link. */
export const HTTP_PORTS: Partial<Record<Service, number>> = { intake: 8080, nurture: 8084 };

/** A Kubernetes object as rendered; fields are read defensively by the tests. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: any;
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { cwd: repoRoot, input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

export interface Tools {
  bin: string;
  schemaVersion: string;
}

/** Builds the tools when the cache lacks them (minutes on a fresh machine), else returns at once. */
export function k8sTools(): Tools {
  const script = join(repoRoot, 'scripts', 'k8s-tools.sh');
  const bin = run('bash', [script]).trim().split('\n').at(-1) ?? '';
  const schemaVersion = run('bash', [script, 'schema-version']).trim();
  return { bin, schemaVersion };
}

/** `dir` is relative to the repository root, or absolute (a scratch overlay). */
export function kustomizeBuild(tools: Tools, dir: string): string {
  return run(join(tools.bin, 'kustomize'), ['build', resolve(repoRoot, dir)]);
}

export function parseObjects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

export interface Validation {
  kind: string;
  name: string;
  status: string;
  msg: string;
}

/** kubeconform in strict mode (unknown fields are errors, missing schemas are errors). */
export function kubeconform(tools: Tools, yamlText: string): Validation[] {
  const version = tools.schemaVersion.replace(/^v/, '');
  const location = join(tools.bin, 'schemas', '{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}', '{{ .ResourceKind }}{{ .KindSuffix }}.json');
  const result = spawnSync(
    join(tools.bin, 'kubeconform'),
    ['-strict', '-output', 'json', '-verbose', '-kubernetes-version', version, '-schema-location', location, '-'],
    { input: yamlText, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (result.error) throw result.error;
  const report = JSON.parse(result.stdout) as { resources: Validation[] };
  return report.resources;
}

export function hadolint(tools: Tools, dockerfile: string): { status: number | null; output: string } {
  const result = spawnSync(join(tools.bin, 'hadolint'), ['--no-color', dockerfile], { cwd: repoRoot, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Pod templates of every workload kind, with the owning object. */
export function podTemplates(objects: K8sObject[]): { owner: K8sObject; spec: any; labels: Record<string, string> }[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind))
    .map((owner) => ({ owner, spec: owner.spec.template.spec, labels: owner.spec.template.metadata?.labels ?? {} }));
}

export function selectorMatches(selector: any, labels: Record<string, string>): boolean {
  const matchLabels: Record<string, string> = selector?.matchLabels ?? {};
  const labelsOk = Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
  const expressions: any[] = selector?.matchExpressions ?? [];
  const expressionsOk = expressions.every((e) => {
    if (e.operator === 'In') return e.values.includes(labels[e.key]);
    if (e.operator === 'NotIn') return !e.values.includes(labels[e.key]);
    if (e.operator === 'Exists') return e.key in labels;
    return !(e.key in labels);
  });
  return labelsOk && expressionsOk;
}

/** The environment a container sees: its ConfigMaps (envFrom) overlaid by its own env entries. */
export function containerEnv(objects: K8sObject[], container: any): Map<string, { value?: string; secretRef?: string }> {
  const env = new Map<string, { value?: string; secretRef?: string }>();
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!configMap) throw new Error(`container ${container.name} reads ConfigMap ${name}, which is not rendered`);
    for (const [key, value] of Object.entries(configMap.data ?? {})) env.set(key, { value: String(value) });
  }
  for (const entry of container.env ?? []) {
    env.set(entry.name, { value: entry.value, secretRef: entry.valueFrom?.secretKeyRef?.name });
  }
  return env;
}

/**
 * Which services each service calls over gRPC, read from its source (`config.peer('<service>')`),
 * so the manifests are checked against what the code does rather than against a list kept here.
 */
export function meshCallsFromSource(): Record<Service, Service[]> {
  const calls = {} as Record<Service, Service[]>;
  for (const service of SERVICES) {
    const files = readdirSync(join(repoRoot, 'services', service, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const peers = new Set<Service>();
    for (const file of files) {
      const text = readFileSync(join(repoRoot, 'services', service, 'src', file), 'utf8');
      for (const match of text.matchAll(/\.peer\('([a-z-]+)'\)/g)) peers.add(match[1] as Service);
    }
    calls[service] = [...peers].sort();
  }
  return calls;
}
