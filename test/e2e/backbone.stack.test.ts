// The local backbone is locked as a cluster's is (issue 13, item 9): scripts/infra.sh runs NATS with
// TLS and one user per service. Each service's credentials, as the test harness hands them to the
// service, are tried on the running server: its own subjects publish (into a namespace of this
// test's own), another service's subject, any change to a stream, another's consumer and reads of
// the pipeline stream are refused. That the five services still do their work as these users is
// what every other stack test shows (test/e2e/pipeline.test.ts first of all).
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { NatsClient, createLogger, topology, type ServiceName } from '@leadmesh/platform';
import { connectAs, every, foreignSubjects, tryLocks } from '../harness/backbone-locks.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitServing } from '../harness/health.ts';
import { NATS_AUTH_DIR, natsUserEnv } from '../harness/nats.ts';
import { SERVICES, TEST_NATS_URL, grpcAddress, startService, stopService } from '../harness/stack.ts';

const URL = TEST_NATS_URL;
const namespace = `locks${randomBytes(3).toString('hex')}`;
const t = topology(namespace);
// The admin (the jest setup's identity) provisions this test's streams, as the harness does for a stack.
const admin = new NatsClient(URL, 'locks-admin', createLogger('test', 'silent'), t);

beforeAll(async () => {
  expect(natsUserEnv('admin').NATS_NKEY_SEED_FILE).toBeDefined();
  admin.start();
  await admin.ready();
}, 30_000);

afterAll(async () => {
  for (const stream of [t.pipelineStream, t.deadLetterStream, `KV_${t.contactKeysBucket}`]) await admin.jsm.streams.delete(stream).catch(() => undefined);
  await admin.close();
});

const refused = (p: Promise<unknown>) =>
  p.then(
    () => 'allowed',
    (err: Error) => (/permissions violation/i.test(err.message) ? 'refused' : `failed otherwise: ${err.message}`),
  );

test.each(SERVICES)("%s's credentials publish its own subjects only, and cannot change a stream or use another's consumer", async (service) => {
  const report = await tryLocks(URL, service as ServiceName, t);
  expect(report.ownPublishes).toEqual(every(report.ownPublishes, 'allowed'));
  expect(report.foreignPublishes).toEqual(every(report.foreignPublishes, 'refused'));
  expect(report.streamChanges).toEqual(every(report.streamChanges, 'refused'));
  expect(report.foreignConsumers).toEqual(every(report.foreignConsumers, 'refused'));
  // A test namespace's pipeline stream is named by a wildcard locally, so only the subscriptions are checked here.
  const { [`message 1 of ${t.pipelineStream}`]: _namespacedRead, ...subscriptions } = report.reads;
  expect(subscriptions).toEqual(every(subscriptions, 'refused'));
  const keyWriter = service === 'intake' ? 'allowed' : 'refused';
  expect(report.contactKeys).toEqual({ read: 'allowed', write: keyWriter, purge: keyWriter });
});

test.each(SERVICES)("%s's credentials cannot publish another service's subject, delete, purge or read the default streams", async (service) => {
  const nc = await connectAs(URL, service as ServiceName);
  try {
    const js = jetstream(nc, { timeout: 3000 });
    const jsm = await jetstreamManager(nc, { timeout: 3000 });
    const d = topology('');
    const tried: Record<string, string> = {};
    for (const subject of foreignSubjects(service as ServiceName)) tried[`publish ${subject}`] = await refused(js.publish(subject, new Uint8Array([1])));
    for (const stream of [d.pipelineStream, d.deadLetterStream]) {
      tried[`delete ${stream}`] = await refused(jsm.streams.delete(stream));
      tried[`purge ${stream}`] = await refused(jsm.streams.purge(stream));
    }
    tried[`read ${d.pipelineStream}`] = await refused(jsm.streams.getMessage(d.pipelineStream, { seq: 1 }));
    tried[`delete a message of ${d.pipelineStream}`] = await refused(jsm.streams.deleteMessage(d.pipelineStream, 1));
    expect(tried).toEqual(every(tried, 'refused'));
  } finally {
    await nc.close();
  }
});

test('a service started by the harness connects as its own user, over TLS, and serves once the admin has provisioned its namespace', async () => {
  // A namespace nobody provisioned yet: the service's user cannot create the streams, the harness's admin does.
  const own = `locks${randomBytes(3).toString('hex')}`;
  const scoring = startService('scoring', { namespace: own, portOffset: 300 });
  try {
    await waitServing(grpcAddress('scoring', 300), 60_000);
    const publicKey = readFileSync(join(NATS_AUTH_DIR, 'users.env'), 'utf8').match(/^LEADMESH_NATS_NKEY_SCORING=(\S+)$/m)![1];
    const connz = (await (await fetch('http://127.0.0.1:8222/connz?auth=true&limit=1024')).json()) as { connections: Array<{ name?: string; authorized_user?: string; tls_version?: string }> };
    const mine = connz.connections.filter((c) => c.name === 'scoring' && c.authorized_user === publicKey);
    expect(mine.length).toBeGreaterThan(0);
    for (const c of mine) expect(c.tls_version).toMatch(/^1\.[23]$/);
  } finally {
    await stopService(scoring);
    const t2 = topology(own);
    for (const stream of [t2.pipelineStream, t2.deadLetterStream, `KV_${t2.contactKeysBucket}`]) await admin.jsm.streams.delete(stream).catch(() => undefined);
  }
}, 90_000);
