// The backbone locked (issue 13, item 9): each service is its own NATS user, allowed to publish only
// the subjects it owns and to consume only its own durable consumers, over TLS. The cluster's NATS
// configuration, as kustomize renders it for prod, runs here in the real nats-server (the version the
// cluster's image pins), with credentials made for this test, and every service's user is tried
// against it: its own subjects publish, every other service's subject, every change to a stream,
// every foreign consumer and every read of the pipeline stream are refused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import * as contracts from '@leadmesh/contracts';
import { BACKBONE_SERVICES, NatsClient, backboneGrant, createLogger, renderAuthorization, servicePermissions, topology } from '@leadmesh/platform';
import { every, foreignSubjects, identityOf, tryLocks } from '../harness/backbone-locks.ts';
import { eventually } from '../harness/eventually.ts';
import { SERVICES, containerEnv, k8sTools, kustomizeBuild, parseObjects, podTemplates, repoRoot, type K8sObject } from './k8s-tools.js';

let objects: K8sObject[];
let scratch: string;
let server: ChildProcess | undefined;
let url: string;
let serverLog = '';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const configMap = (prefix: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(prefix))!;

beforeAll(async () => {
  objects = parseObjects(kustomizeBuild(k8sTools(), 'deploy/k8s/overlays/prod'));
  const built = run('bash', [join(repoRoot, 'scripts/infra.sh'), 'bin']);
  if (built.status !== 0) throw new Error(`could not build the local servers:\n${built.output}`);
  const natsServer = join(built.output.trim().split('\n').at(-1)!, 'nats-server');
  scratch = mkdtempSync(join(tmpdir(), 'leadmesh-nats-'));
  // Credentials for this test alone, as an environment's operator would make them.
  const made = run(join(repoRoot, 'node_modules/.bin/node'), [join(repoRoot, 'scripts/nats-credentials.ts'), join(scratch, 'auth')]);
  if (made.status !== 0) throw new Error(made.output);
  // The rendered ConfigMap, with the mounted paths moved into the scratch folder.
  const data = configMap('nats-config').data as Record<string, string>;
  writeFileSync(join(scratch, 'nats.conf'), data['nats.conf']!.replaceAll('/etc/nats/tls/', `${scratch}/auth/`).replace('/data/jetstream', join(scratch, 'store')).replace('/var/run/nats/', `${scratch}/`)
      // One node here: the cluster block names peers that exist only in the cluster.
      .replace(/\ncluster \{[\s\S]*?\n\}\n/, '\n'));
  writeFileSync(join(scratch, 'authorization.conf'), data['authorization.conf']!);
  copyFileSync(join(scratch, 'auth/server.crt'), join(scratch, 'auth/tls.crt'));
  copyFileSync(join(scratch, 'auth/server.key'), join(scratch, 'auth/tls.key'));
  const users = Object.fromEntries(readFileSync(join(scratch, 'auth/users.env'), 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
  const [port, monitor] = [await freePort(), await freePort()];
  url = `nats://127.0.0.1:${port}`;
  server = spawn(natsServer, ['-c', join(scratch, 'nats.conf'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)], {
    env: { ...process.env, ...users, POD_NAME: 'nats-test' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr!.on('data', (d) => (serverLog += d));
  await eventually('the NATS server with the cluster configuration', async () => {
    if (server!.exitCode !== null) throw new Error(`nats-server exited: ${serverLog}`);
    return (await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`)).ok ? true : undefined;
  });
  // The provisioning identity creates the streams, as the nats-provision Job does.
  const admin = new NatsClient(url, 'provision', createLogger('test', 'silent'), topology(''), { ...identityOf('admin', join(scratch, 'auth')), provisionStreams: true });
  admin.start();
  await admin.ready();
  await admin.close();
}, 900_000);

afterAll(() => {
  server?.kill('SIGKILL');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('the generated authorization files are up to date with the permissions table (node scripts/nats-config.ts)', () => {
  expect(readFileSync(join(repoRoot, 'deploy/local/nats-authorization.conf'), 'utf8')).toBe(renderAuthorization({ namespaces: true }));
  expect(readFileSync(join(repoRoot, 'deploy/k8s/infrastructure/nats/authorization.conf'), 'utf8')).toBe(renderAuthorization({ namespaces: false }));
  // In a cluster every stream is named: no wildcard stands for a stream or a namespace.
  for (const service of BACKBONE_SERVICES) {
    for (const subject of servicePermissions(service, { namespaces: false }).publish.allow) expect(subject).not.toMatch(/(^|\.)\*(\.|$)/);
  }
});

test("the permissions table grants what each service's code publishes and consumes, and nothing else", () => {
  const { SUBJECTS } = contracts;
  for (const service of SERVICES) {
    const sources = readdirSync(join(repoRoot, 'services', service, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => readFileSync(join(repoRoot, 'services', service, 'src', f), 'utf8'))
      .join('\n');
    const published = [...sources.matchAll(/encodeEvent\(SUBJECTS\.(\w+)/g)].map((m) => SUBJECTS[m[1] as keyof typeof SUBJECTS]);
    const durables = [...sources.matchAll(/durable: '([\w-]+)',\s*subject: SUBJECTS\.(\w+)/g)].map((m) => ({ durable: m[1]!, subject: SUBJECTS[m[2] as keyof typeof SUBJECTS] }));
    // Every service also takes part in erasure through the platform (contact.erased in, erasure.completed out).
    const grant = backboneGrant(service);
    expect([...new Set([...published, SUBJECTS.erasureCompleted])].sort()).toEqual([...grant.publishes].sort());
    expect([...durables, { durable: `${service}-contact-erased`, subject: SUBJECTS.contactErased }].sort((a, b) => a.durable.localeCompare(b.durable))).toEqual(
      [...grant.consumes].sort((a, b) => a.durable.localeCompare(b.durable)),
    );
  }
});

test('the server refuses a client without TLS or without a user', async () => {
  const info = await new Promise<string>((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.once('error', reject);
  });
  expect(JSON.parse(info.replace(/^INFO /, '')).tls_required).toBe(true);
  await expect(connect({ servers: url, timeout: 3000, maxReconnectAttempts: 0, tls: { caFile: join(scratch, 'auth/ca.crt') } })).rejects.toThrow(/authorization/i);
});

test.each(SERVICES)("%s's user publishes its own subjects only, and cannot change a stream, use another's consumer or read the pipeline", async (service) => {
  const report = await tryLocks(url, service, topology(''), join(scratch, 'auth'));
  expect(report.ownPublishes).toEqual(every(report.ownPublishes, 'allowed'));
  expect(Object.keys(report.foreignPublishes).sort()).toEqual(foreignSubjects(service).sort());
  expect(report.foreignPublishes).toEqual(every(report.foreignPublishes, 'refused'));
  expect(report.streamChanges).toEqual(every(report.streamChanges, 'refused'));
  expect(report.foreignConsumers).toEqual(every(report.foreignConsumers, 'refused'));
  expect(report.reads).toEqual(every(report.reads, 'refused'));
  const keyWriter = service === 'intake' ? 'allowed' : 'refused';
  expect(report.contactKeys).toEqual({ read: 'allowed', write: keyWriter, purge: keyWriter });
});

test('every Deployment connects as its own NATS user over TLS; the server takes the public keys and certificate from Secrets', () => {
  const services = podTemplates(objects).filter((t) => t.owner.kind === 'Deployment' && (SERVICES as readonly string[]).includes(t.owner.metadata.name));
  expect(services).toHaveLength(SERVICES.length);
  for (const template of services) {
    const env = containerEnv(objects, template.spec.containers[0]);
    expect(env.get('NATS_NKEY_SEED_FILE')?.value).toBe('/etc/leadmesh/nats/seed');
    expect(env.get('NATS_TLS_CA_FILE')?.value).toBe('/etc/leadmesh/nats-ca/ca.crt');
    const volumes = template.spec.volumes as Array<{ name: string; secret?: { secretName: string } }>;
    expect(volumes.find((v) => v.name === 'nats-user')?.secret?.secretName).toBe(`leadmesh-${template.owner.metadata.name}-nats`);
  }
  const nats = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats')!;
  const serverEnv = containerEnv(objects, (nats.spec as any).template.spec.containers[0]);
  for (const user of ['ADMIN', 'INTAKE', 'SCORING', 'ROUTING', 'NURTURE', 'CRM_SYNC']) expect(serverEnv.get(`LEADMESH_NATS_NKEY_${user}`)?.secretRef).toBe('nats-users');
  expect((nats.spec as any).template.spec.volumes).toContainEqual(expect.objectContaining({ name: 'tls', secret: expect.objectContaining({ secretName: 'nats-tls' }) }));
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'nats-provision')!;
  expect((job.spec as any).template.spec.volumes).toContainEqual(expect.objectContaining({ name: 'nats-user', secret: expect.objectContaining({ secretName: 'leadmesh-nats-admin' }) }));
});
