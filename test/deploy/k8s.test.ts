// Renders every overlay with the pinned kustomize, validates every object offline against the
// Kubernetes API schemas with kubeconform, and checks the operational invariants an SRE relies on.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { ownerLookupFromEnv } from '../../services/crm-sync/src/owner-directory.js';
import {
  GRPC_PORTS, HTTP_PORTS, METRICS_PORTS, SERVICES, containerEnv, k8sTools, kubeconform, kustomizeBuild, meshCallsFromSource, parseObjects,
  podTemplates, repoRoot, selectorMatches, type K8sObject, type Tools,
} from './k8s-tools.js';

const ENVIRONMENTS = ['dev', 'qa', 'stage', 'prod'] as const;
const PINNED = new Set(['stage', 'prod']);

let tools: Tools;
const rendered = new Map<string, { text: string; objects: K8sObject[] }>();

beforeAll(() => {
  tools = k8sTools();
  for (const env of ENVIRONMENTS) {
    const text = kustomizeBuild(tools, `deploy/k8s/overlays/${env}`);
    rendered.set(env, { text, objects: parseObjects(text) });
  }
}, 900_000);

const objectsOf = (env: string) => rendered.get(env)!.objects;
const MESH_CALLS = meshCallsFromSource();
const callers = (service: string) => SERVICES.filter((caller) => (MESH_CALLS[caller] as string[]).includes(service)).sort();
const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const serviceDeployments = (objects: K8sObject[]) =>
  ofKind(objects, 'Deployment').filter((d) => (SERVICES as readonly string[]).includes(d.metadata.name));
const allContainers = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];
const serviceContainer = (objects: K8sObject[], service: string) =>
  serviceDeployments(objects).find((d) => d.metadata.name === service)!.spec.template.spec.containers[0];
const readme = () => readFileSync(join(repoRoot, 'deploy/k8s/README.md'), 'utf8');

/** The volume behind the mount that holds `path` in the container, and the file's key in it. */
function fileSource(spec: any, container: any, path: string): { volume: any; key: string } | undefined {
  const mount = (container.volumeMounts ?? []).find((m: any) => m.mountPath === dirname(path) && !m.subPath);
  const volume = (spec.volumes ?? []).find((v: any) => v.name === mount?.name);
  const source = volume?.configMap ?? volume?.secret;
  if (!source) return undefined;
  const item = (source.items ?? []).find((i: any) => i.path === basename(path));
  return { volume, key: item ? item.key : basename(path) };
}

/** Ingress rules of a NetworkPolicy that open `port`, with their peers. */
const ingressPeersOn = (policy: K8sObject, port: number): any[] =>
  (policy.spec.ingress ?? []).filter((rule: any) => (rule.ports ?? []).some((p: any) => p.port === port)).flatMap((rule: any) => rule.from ?? []);
const egressPortsOutside = (policy: K8sObject): number[] =>
  (policy.spec.egress ?? []).filter((rule: any) => (rule.to ?? []).some((peer: any) => peer.ipBlock?.cidr === '0.0.0.0/0'))
    .flatMap((rule: any) => (rule.ports ?? []).map((p: any) => p.port as number));

describe.each(ENVIRONMENTS)('overlay %s', (env) => {
  test('every rendered object is valid against the Kubernetes API schemas (strict)', () => {
    const { text, objects } = rendered.get(env)!;
    const results = kubeconform(tools, text);
    const failures = results.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`);
    expect(failures).toEqual([]);
    expect(results).toHaveLength(objects.length);
  });

  test('it runs in its own namespace under the restricted Pod Security Standard', () => {
    const objects = objectsOf(env);
    const [namespace] = ofKind(objects, 'Namespace');
    expect(namespace?.metadata.name).toBe(`leadmesh-${env}`);
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) expect(o.metadata.namespace).toBe(`leadmesh-${env}`);
  });

  test.each(SERVICES)('%s: one Deployment with gRPC probes on its grpc port, graceful rollout and termination', (service) => {
    const deployment = ofKind(objectsOf(env), 'Deployment').find((d) => d.metadata.name === service);
    expect(deployment).toBeDefined();
    const pod = deployment!.spec.template.spec;
    const container = pod.containers[0];
    const grpcPort = container.ports.find((p: any) => p.name === 'grpc')?.containerPort;
    expect(grpcPort).toBe(GRPC_PORTS[service]);
    expect(container.ports.find((p: any) => p.name === 'metrics')?.containerPort).toBe(METRICS_PORTS[service]);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(container[probe]?.grpc?.port).toBe(grpcPort);
    }
    expect(deployment!.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    expect(container.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
    expect(pod.topologySpreadConstraints.map((c: any) => c.topologyKey)).toContain('topology.kubernetes.io/zone');
    expect(pod.automountServiceAccountToken).toBe(false);
    const account = ofKind(objectsOf(env), 'ServiceAccount').find((a) => a.metadata.name === pod.serviceAccountName);
    expect(account?.automountServiceAccountToken).toBe(false);

    const env_ = containerEnv(objectsOf(env), container);
    expect(env_.get('GRPC_HOST')?.value).toBe('0.0.0.0');
    expect(env_.get('GRPC_PORT')?.value).toBe(String(grpcPort));
    expect(env_.get('METRICS_PORT')?.value).toBe(String(METRICS_PORTS[service]));
    const key = service.toUpperCase().replace(/-/g, '_');
    expect(env_.get(`${key}_MONGO_URL`)?.value).toMatch(/^mongodb:\/\/\$\(MONGO_USERNAME\):\$\(MONGO_PASSWORD\)@/);
    expect(env_.get('MONGO_PASSWORD')?.secretRef).toBe(`leadmesh-${service}-mongo`);
  });

  test.each(SERVICES)('%s: a Service with named ports, a PodDisruptionBudget and an HPA that match it', (service) => {
    const objects = objectsOf(env);
    const deployment = serviceDeployments(objects).find((d) => d.metadata.name === service)!;
    const labels = deployment.spec.template.metadata.labels;
    const svc = ofKind(objects, 'Service').find((s) => s.metadata.name === service);
    const portNames = svc?.spec.ports.map((p: any) => p.name);
    expect(portNames).toEqual(expect.arrayContaining(HTTP_PORTS[service] ? ['grpc', 'http', 'metrics'] : ['grpc', 'metrics']));
    expect(selectorMatches({ matchLabels: svc?.spec.selector }, labels)).toBe(true);

    const pdbs = ofKind(objects, 'PodDisruptionBudget').filter((p) => selectorMatches(p.spec.selector, labels));
    expect(pdbs).toHaveLength(1);
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler').filter(
      (h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === service,
    );
    expect(hpas).toHaveLength(1);
    expect(hpas[0]!.apiVersion).toBe('autoscaling/v2');
    expect(hpas[0]!.spec.minReplicas).toBe(deployment.spec.replicas);
  });

  test('every workload has probes, requests and limits, and the restricted security context', () => {
    const problems: string[] = [];
    for (const { owner, spec } of podTemplates(objectsOf(env))) {
      const where = `${owner.kind}/${owner.metadata.name}`;
      const podContext = spec.securityContext ?? {};
      for (const container of allContainers(spec)) {
        const at = `${where}/${container.name}`;
        const context = container.securityContext ?? {};
        if (!(context.runAsNonRoot ?? podContext.runAsNonRoot)) problems.push(`${at}: may run as root`);
        if (context.allowPrivilegeEscalation !== false) problems.push(`${at}: privilege escalation allowed`);
        if (context.readOnlyRootFilesystem !== true) problems.push(`${at}: writable root filesystem`);
        if (!context.capabilities?.drop?.includes('ALL')) problems.push(`${at}: capabilities not all dropped`);
        if ((context.seccompProfile ?? podContext.seccompProfile)?.type !== 'RuntimeDefault') problems.push(`${at}: no RuntimeDefault seccomp`);
        for (const field of ['requests', 'limits']) {
          for (const resource of ['cpu', 'memory']) {
            if (!container.resources?.[field]?.[resource]) problems.push(`${at}: no ${resource} ${field}`);
          }
        }
      }
      const isLongRunning = owner.kind !== 'Job';
      for (const container of spec.containers) {
        if (isLongRunning && !(container.readinessProbe && container.livenessProbe)) problems.push(`${where}/${container.name}: missing probes`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('every replicated workload has a PodDisruptionBudget', () => {
    const objects = objectsOf(env);
    const budgets = ofKind(objects, 'PodDisruptionBudget');
    const unprotected = [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')]
      .filter((w) => (w.spec.replicas ?? 1) > 1)
      .filter((w) => !budgets.some((b) => selectorMatches(b.spec.selector, w.spec.template.metadata.labels)))
      .map((w) => `${w.kind}/${w.metadata.name}`);
    expect(unprotected).toEqual([]);
  });

  test('traffic is denied by default and every workload has its own NetworkPolicy', () => {
    const objects = objectsOf(env);
    const policies = ofKind(objects, 'NetworkPolicy');
    const denyAll = policies.filter(
      (p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && !p.spec.ingress && !p.spec.egress &&
        p.spec.policyTypes.includes('Ingress') && p.spec.policyTypes.includes('Egress'),
    );
    expect(denyAll).toHaveLength(1);
    const uncovered = podTemplates(objects)
      .filter(({ labels }) => !policies.some((p) => Object.keys(p.spec.podSelector ?? {}).length > 0 && selectorMatches(p.spec.podSelector, labels)))
      .map(({ owner }) => `${owner.kind}/${owner.metadata.name}`);
    expect(uncovered).toEqual([]);
  });

  test('services call each other exactly where the code does, and only the services reach NATS, MongoDB and the collector', () => {
    // Today intake alone (the lead journey): crm-sync builds the CRM record from the events it
    // consumes. The list comes from the source.
    expect(MESH_CALLS['crm-sync']).toEqual([]);
    const policies = ofKind(objectsOf(env), 'NetworkPolicy');
    const policyOf = (name: string) => policies.find((p) => p.metadata.name === name)!;
    const peersReached = (name: string) =>
      (policyOf(name).spec.egress ?? []).flatMap((rule: any) => rule.to ?? [])
        .map((peer: any) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'])
        .filter((target: string | undefined) => (SERVICES as readonly string[]).includes(target ?? ''));
    for (const service of SERVICES) {
      expect({ service, reaches: peersReached(service).sort() }).toEqual({ service, reaches: MESH_CALLS[service] });
      const admitted = ingressPeersOn(policyOf(service), GRPC_PORTS[service])
        .map((peer: any) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'])
        .filter((source: string | undefined) => (SERVICES as readonly string[]).includes(source ?? ''));
      expect({ service, admitted: admitted.sort() }).toEqual({ service, admitted: callers(service) });
    }
    const objects = objectsOf(env);
    for (const caller of SERVICES) {
      const settings = containerEnv(objects, serviceContainer(objects, caller));
      for (const peer of MESH_CALLS[caller]) {
        const key = `${peer.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`;
        expect({ caller, [key]: settings.get(key)?.value }).toEqual({ caller, [key]: `${peer}:${GRPC_PORTS[peer]}` });
      }
    }
    for (const infra of ['nats', 'otel-collector']) {
      const sources = (policyOf(infra).spec.ingress ?? []).flatMap((rule: any) => rule.from ?? [])
        .flatMap((peer: any) => peer.podSelector?.matchExpressions?.[0]?.values ?? []);
      expect(sources).toEqual(expect.arrayContaining([...SERVICES]));
    }
  });

  test('no Secret carries a value, and every credential comes from a Secret the README tells you to create', () => {
    const { text, objects } = rendered.get(env)!;
    for (const secret of ofKind(objects, 'Secret')) {
      expect({ name: secret.metadata.name, data: secret.data, stringData: secret.stringData }).toEqual({ name: secret.metadata.name });
    }
    // Nothing that looks like a credential anywhere in the output: a JWT, a PEM private key, the
    // private member of a JWK (a signing key pasted where its public JWKS belongs).
    expect(text.match(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/g) ?? []).toEqual([]);
    expect(text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----/g) ?? []).toEqual([]);
    expect(text.match(/"d"\s*:\s*"/g) ?? []).toEqual([]);
    // A ConfigMap may point at a credential's file, never hold one.
    const credential = /PASSWORD|SECRET|TOKEN|CLIENT_ID|SMTP_URL/;
    for (const configMap of ofKind(objects, 'ConfigMap')) {
      const held = Object.keys(configMap.data ?? {}).filter((key) => credential.test(key) && !key.endsWith('_FILE'));
      expect({ configMap: configMap.metadata.name, held }).toEqual({ configMap: configMap.metadata.name, held: [] });
    }
    const referenced = new Set<string>();
    for (const { owner, spec } of podTemplates(objects)) {
      for (const container of allContainers(spec)) {
        for (const entry of container.env ?? []) {
          if (credential.test(entry.name)) {
            expect({ at: `${owner.metadata.name}/${entry.name}`, literal: entry.value }).toEqual({ at: `${owner.metadata.name}/${entry.name}` });
          }
          const ref = entry.valueFrom?.secretKeyRef?.name;
          if (ref) referenced.add(ref);
        }
      }
      for (const volume of spec.volumes ?? []) {
        if (volume.secret) referenced.add(volume.secret.secretName);
        // A ConfigMap the overlay does not render is one you create, so the README must name it too.
        const configMap = volume.configMap?.name;
        if (configMap && !objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === configMap)) referenced.add(configMap);
      }
    }
    expect(referenced.size).toBeGreaterThan(0);
    expect([...referenced].filter((name) => !readme().includes(name))).toEqual([]);
  });

  test('every service refuses to start without keys and verifies callers with the JWKS ConfigMap', () => {
    const objects = objectsOf(env);
    for (const deployment of serviceDeployments(objects)) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const settings = containerEnv(objects, container);
      const at = deployment.metadata.name;
      expect({ at, required: settings.get('AUTH_REQUIRED')?.value }).toEqual({ at, required: 'true' });
      // Inline keys would win over the file and could drift from the ConfigMap.
      expect({ at, inline: settings.get('AUTH_JWKS_JSON') }).toEqual({ at, inline: undefined });
      const jwksFile = settings.get('AUTH_JWKS_FILE')?.value ?? '';
      const source = fileSource(pod, container, jwksFile);
      expect({ at, configMap: source?.volume.configMap?.name, key: source?.key }).toEqual({ at, configMap: 'leadmesh-auth-jwks', key: 'jwks.json' });
    }
  });

  test('a service that calls others does so with its own identity token from a Secret; the others hold none', () => {
    const objects = objectsOf(env);
    for (const deployment of serviceDeployments(objects)) {
      const service = deployment.metadata.name as (typeof SERVICES)[number];
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const settings = containerEnv(objects, container);
      expect(settings.get('LEADMESH_SERVICE_TOKEN')).toBeUndefined();
      const tokenFile = settings.get('LEADMESH_SERVICE_TOKEN_FILE')?.value;
      if (MESH_CALLS[service].length === 0) {
        // No call, no credential: a service gets its identity with its first call to another.
        expect({ service, tokenFile }).toEqual({ service, tokenFile: undefined });
        continue;
      }
      const source = fileSource(pod, container, tokenFile ?? '');
      expect({ service, secret: source?.volume.secret?.secretName, key: source?.key }).toEqual({
        service,
        secret: `leadmesh-${service}-identity`,
        key: 'token',
      });
      // Readable by the pod's group, which is how the non-root user reads a root-owned file.
      expect(source?.volume.secret.defaultMode & 0o007).toBe(0);
      expect(source?.volume.secret.defaultMode & 0o040).toBe(0o040);
      expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    }
  });

  test('gRPC is plaintext inside the cluster, so the kubelet\'s native gRPC probes work; mTLS is left to a service mesh', () => {
    const objects = objectsOf(env);
    for (const deployment of serviceDeployments(objects)) {
      const container = deployment.spec.template.spec.containers[0];
      const tls = [...containerEnv(objects, container).keys()].filter((key) => key.startsWith('GRPC_TLS_'));
      // A native gRPC probe cannot speak TLS: turning TLS on here without exec probes would fail
      // every probe and restart every pod. See the README before changing this.
      expect({ at: deployment.metadata.name, tls }).toEqual({ at: deployment.metadata.name, tls: [] });
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) expect(container[probe].grpc).toBeDefined();
    }
  });

  test('nurture serves the unsubscribe link on 8084, reachable through the ingress, and mails through the relay', () => {
    const objects = objectsOf(env);
    const container = serviceContainer(objects, 'nurture');
    const settings = containerEnv(objects, container);
    expect(container.ports.find((p: any) => p.name === 'http')?.containerPort).toBe(8084);
    expect(settings.get('HTTP_PORT')?.value).toBe('8084');
    expect(settings.get('HTTP_HOST')?.value).toBe('0.0.0.0');
    const service = ofKind(objects, 'Service').find((s) => s.metadata.name === 'nurture')!;
    expect(service.spec.ports.find((p: any) => p.name === 'http')).toMatchObject({ port: 8084, targetPort: 'http' });

    const policy = ofKind(objects, 'NetworkPolicy').find((p) => p.metadata.name === 'nurture')!;
    const peers = ingressPeersOn(policy, 8084);
    expect(peers.some((peer: any) => peer.namespaceSelector?.matchLabels?.['leadmesh.io/api-client'] === 'true')).toBe(true);
    expect(egressPortsOutside(policy)).toEqual(expect.arrayContaining([587, 465, 25]));

    // The link in every email points at this environment's public address, never the loopback default.
    const publicUrl = new URL(settings.get('NURTURE_PUBLIC_URL')?.value ?? 'http://127.0.0.1');
    expect(publicUrl.protocol).toBe('https:');
    expect(publicUrl.hostname).not.toMatch(/^(127\.|localhost$)/);
    expect(settings.get('NURTURE_FROM')?.value).toMatch(/<[^@\s]+@[^>\s]+>$/);
    expect(settings.get('SMTP_URL')?.secretRef).toBe('leadmesh-nurture-smtp');
    expect(settings.get('UNSUBSCRIBE_SECRET')?.secretRef).toBe('leadmesh-nurture-unsubscribe');
  });

  test("intake's erasure hash key comes from a Secret (ERASURE_HASH_KEY has no default)", () => {
    const objects = objectsOf(env);
    const deployment = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'intake')!;
    const settings = containerEnv(objects, deployment.spec.template.spec.containers[0]);
    expect(settings.get('ERASURE_HASH_KEY')?.secretRef).toBe('leadmesh-intake-erasure');
  });

  test(PINNED.has(env) ? 'every image is pinned to a version or digest' : 'no image uses latest', () => {
    const images = podTemplates(objectsOf(env)).flatMap(({ spec }) => allContainers(spec).map((c) => c.image as string));
    for (const image of images) {
      const digest = image.includes('@sha256:');
      const tag = digest ? undefined : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      expect({ image, latest: tag === 'latest' || (!digest && tag === undefined) }).toEqual({ image, latest: false });
      if (PINNED.has(env)) {
        expect({ image, pinned: digest || /^v?\d+\.\d+\.\d+/.test(tag ?? '') }).toEqual({ image, pinned: true });
      }
    }
  });

  test('crm-sync uses its Salesforce adapter: against the simulator sidecar before stage, the real CRM from stage on', () => {
    const objects = objectsOf(env);
    const crmSync = serviceDeployments(objects).find((d) => d.metadata.name === 'crm-sync')!;
    const pod = crmSync.spec.template.spec;
    const crmEnv = containerEnv(objects, pod.containers[0]);
    expect(crmEnv.get('CRM_PROVIDER')?.value).toBe('salesforce');
    expect(crmEnv.get('SALESFORCE_CLIENT_ID')?.secretRef).toBe('leadmesh-crm-salesforce');
    expect(crmEnv.get('SALESFORCE_CLIENT_SECRET')?.secretRef).toBe('leadmesh-crm-salesforce');
    const simulator = (pod.initContainers ?? []).find((c: any) => c.name === 'crm-simulator');
    if (PINNED.has(env)) {
      expect(crmEnv.get('SALESFORCE_LOGIN_URL')?.value).toMatch(/^https:\/\/(login|test)\.salesforce\.com$/);
      expect(simulator).toBeUndefined();
    } else {
      // The simulator answers with its own loopback address as the instance URL, so it must share
      // crm-sync's pod, and start before it: a native sidecar.
      expect(crmEnv.get('SALESFORCE_LOGIN_URL')?.value).toBe('http://127.0.0.1:8090');
      expect(simulator?.restartPolicy).toBe('Always');
      expect(simulator?.image).toMatch(/\/crm-simulator:/);
      expect(containerEnv(objects, simulator).get('CRM_SIMULATOR_SALESFORCE_CLIENT_SECRET')?.secretRef).toBe('leadmesh-crm-salesforce');
    }
  });

  test('log level and trace sampling are set for the environment', () => {
    const objects = objectsOf(env);
    for (const deployment of serviceDeployments(objects)) {
      const settings = containerEnv(objects, deployment.spec.template.spec.containers[0]);
      expect(settings.get('LOG_LEVEL')?.value).toBe(PINNED.has(env) ? 'info' : 'debug');
      const ratio = Number(settings.get('OTEL_TRACES_SAMPLER_ARG')?.value);
      expect(ratio).toBeGreaterThan(0);
      expect(ratio).toBeLessThanOrEqual(1);
      expect(settings.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe('http://otel-collector:4318');
    }
  });

  test('NATS is a three-node JetStream cluster on persistent volumes that fsyncs every write', () => {
    const objects = objectsOf(env);
    const nats = ofKind(objects, 'StatefulSet').find((s) => s.metadata.name === 'nats')!;
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.volumeClaimTemplates.map((t: any) => t.metadata.name)).toContain('data');
    const configName = nats.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.name;
    const config = ofKind(objects, 'ConfigMap').find((c) => c.metadata.name === configName)!.data['nats.conf'] as string;
    expect(config).toMatch(/^\s*sync_interval:\s*always\s*$/m);
    expect(config.match(/nats:\/\/nats-\d\.nats-headless:6222/g)).toHaveLength(3);
  });

  test('MongoDB is a three-member replica set with an init Job that creates one user per service', () => {
    const objects = objectsOf(env);
    expect(ofKind(objects, 'StatefulSet').find((s) => s.metadata.name === 'mongodb')?.spec.replicas).toBe(3);
    const job = ofKind(objects, 'Job').find((j) => j.metadata.name === 'mongodb-init')!;
    const jobEnv = containerEnv(objects, job.spec.template.spec.containers[0]);
    for (const service of SERVICES) {
      const key = service.toUpperCase().replace(/-/g, '_');
      expect(jobEnv.get(`${key}_MONGO_PASSWORD`)?.secretRef).toBe(`leadmesh-${service}-mongo`);
    }
  });

  test('the collector forwards traces to Jaeger', () => {
    const objects = objectsOf(env);
    const config = ofKind(objects, 'ConfigMap').find((c) => c.metadata.name.startsWith('otel-collector-config'))!.data['config.yaml'] as string;
    expect(config).toMatch(/endpoint: jaeger:4317/);
    expect(ofKind(objects, 'Service').find((s) => s.metadata.name === 'jaeger')?.spec.ports.map((p: any) => p.port)).toEqual(
      expect.arrayContaining([4317, 16686]),
    );
  });
});

test('prod streams are replicated on three NATS nodes', () => {
  const objects = objectsOf('prod');
  for (const deployment of serviceDeployments(objects)) {
    const settings = containerEnv(objects, deployment.spec.template.spec.containers[0]);
    expect({ service: deployment.metadata.name, replicas: settings.get('NATS_STREAM_REPLICAS')?.value }).toEqual({
      service: deployment.metadata.name,
      replicas: '3',
    });
  }
});

test('from QA on, the overlay names a shipped scoring rule set; scoring starts with it and a Job activates it', () => {
  for (const env of ENVIRONMENTS) {
    const objects = objectsOf(env);
    const job = ofKind(objects, 'Job').find((j) => j.metadata.name === 'scoring-rule-set-activation');
    const scoring = serviceDeployments(objects).find((d) => d.metadata.name === 'scoring')!;
    const scoringVersion = containerEnv(objects, scoring.spec.template.spec.containers[0]).get('SCORING_ACTIVE_RULE_SET')?.value;
    if (env === 'dev') {
      // dev runs the newest rule set in the image, which is scoring's default.
      expect({ job, scoringVersion }).toEqual({ job: undefined, scoringVersion: undefined });
      continue;
    }
    const container = job!.spec.template.spec.containers[0];
    expect(container.args).toContain('leadmesh.scoring.v1.ScoringService/ActivateRuleSet');
    expect(container.args).toContain('{"version": "$(SCORING_ACTIVE_RULE_SET)"}');
    // ActivateRuleSet needs rules:admin. grpcurl reads the token from its environment itself, so
    // it is neither in the manifest nor in the process arguments.
    const header = container.args[container.args.indexOf('-H') + 1] as string;
    expect(header).toMatch(/^authorization: Bearer \$\{(\w+)\}$/);
    expect(container.args).toContain('-expand-headers');
    const tokenVariable = /\$\{(\w+)\}/.exec(header)![1]!;
    expect(containerEnv(objects, container).get(tokenVariable)?.secretRef).toBe('leadmesh-rule-set-activation-identity');
    const jobVersion = containerEnv(objects, container).get('SCORING_ACTIVE_RULE_SET')?.value;
    expect(jobVersion).toBe(scoringVersion);
    expect({ env, shipped: existsSync(join(repoRoot, 'services/scoring/rules', `${jobVersion}.yaml`)) }).toEqual({ env, shipped: true });
  }
});

test('the overlays differ where environments should: replicas grow toward prod', () => {
  const replicas = ENVIRONMENTS.map((env) => serviceDeployments(objectsOf(env)).map((d) => d.spec.replicas as number));
  for (let i = 1; i < replicas.length; i++) {
    expect(Math.min(...replicas[i]!)).toBeGreaterThanOrEqual(Math.max(...replicas[i - 1]!));
  }
  expect(Math.min(...replicas.at(-1)!)).toBeGreaterThanOrEqual(3);
});

test('each environment sends unsubscribe links to its own public address', () => {
  const urls = ENVIRONMENTS.map((env) => containerEnv(objectsOf(env), serviceContainer(objectsOf(env), 'nurture')).get('NURTURE_PUBLIC_URL')?.value);
  expect(new Set(urls).size).toBe(ENVIRONMENTS.length);
});

describe('components/crm-hubspot, in a scratch overlay with an owner map', () => {
  let scratch: string;
  let objects: K8sObject[];
  let text: string;

  beforeAll(() => {
    // No environment uses HubSpot yet, so render the component the way an overlay would: base,
    // the component, and the owner map generated from a copy of the example.
    scratch = mkdtempSync(join(tmpdir(), 'leadmesh-hubspot-'));
    copyFileSync(join(repoRoot, 'services/crm-sync/mappings/hubspot-owners.example.yaml'), join(scratch, 'hubspot-owners.yaml'));
    writeFileSync(
      join(scratch, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: leadmesh-hubspot',
        'resources:',
        // kustomize takes no absolute paths here; relative ones may leave the folder.
        `  - ${relative(scratch, join(repoRoot, 'deploy/k8s/base'))}`,
        'components:',
        `  - ${relative(scratch, join(repoRoot, 'deploy/k8s/components/crm-hubspot'))}`,
        'configMapGenerator:',
        '  - name: crm-sync-hubspot-owners',
        '    files: [owners.yaml=hubspot-owners.yaml]',
        '',
      ].join('\n'),
    );
    text = kustomizeBuild(tools, scratch);
    objects = parseObjects(text);
  }, 120_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('renders valid objects', () => {
    const failures = kubeconform(tools, text).filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.msg}`);
    expect(failures).toEqual([]);
  });

  test('crm-sync runs its HubSpot adapter with the token from a Secret and reads the owner map the pod mounts', async () => {
    const deployment = serviceDeployments(objects).find((d) => d.metadata.name === 'crm-sync')!;
    const pod = deployment.spec.template.spec;
    const settings = containerEnv(objects, pod.containers[0]);
    expect(settings.get('CRM_PROVIDER')?.value).toBe('hubspot');
    expect(settings.get('HUBSPOT_TOKEN')?.secretRef).toBe('leadmesh-crm-hubspot');
    const mapFile = settings.get('HUBSPOT_OWNER_MAP_FILE')?.value ?? '';
    const source = fileSource(pod, pod.containers[0], mapFile);
    // The generated (hash-suffixed) ConfigMap, so a changed owner map rolls the pods.
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source?.volume.configMap?.name);
    expect(configMap?.metadata.name).toMatch(/^crm-sync-hubspot-owners-\w+$/);
    // What the pod would read, through crm-sync's own loader.
    const file = join(scratch, 'mounted-owners.yaml');
    writeFileSync(file, configMap!.data[source!.key]);
    const lookup = await ownerLookupFromEnv({ HUBSPOT_OWNER_MAP_FILE: file });
    expect(lookup?.('avery-chen')).toBe('81234567');
    expect(readme()).toContain('leadmesh-crm-hubspot');
  });
});
