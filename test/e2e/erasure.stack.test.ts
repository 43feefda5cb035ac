// Right to erasure, end to end: after EraseContact no store of any service and no CRM record holds
// the person's address (nor the CRM's Recycle Bin), every service reports its part done, replaying
// the old events does not bring the person back, and a CRM upsert in flight when the erasure
// arrives does not either.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { headers } from '@nats-io/nats-core';
import { crmsync, intake } from '@leadmesh/contracts';
import { NatsClient, createClient, createLogger, topology } from '@leadmesh/platform';
import { startCrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { eventually as poll } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { ROOT, SERVICES, allScopes, createStackAuth, grpcAddress, startStack, stopStack, type RunningService, TEST_NATS_URL } from '../harness/stack.ts';

const OFFSET = 40;
const NAMESPACE = 'erasure';
const CRM_PORT = 8090 + OFFSET;

let services: RunningService[] = [];
let simulator: Awaited<ReturnType<typeof startCrmSimulator>>;
const mongo = new MongoClient('mongodb://127.0.0.1:27017/');
const nats = new NatsClient(TEST_NATS_URL, 'erasure-test', createLogger('test', 'silent'), topology(NAMESPACE));
const auth = await createStackAuth();
const token = await auth.token(await allScopes(), 'team:privacy');
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token, timeoutMs: 10_000 });
const crmSyncClient = createClient(crmsync.CrmSyncService, grpcAddress('crm-sync', OFFSET), { token });

beforeAll(async () => {
  simulator = await startCrmSimulator({ port: CRM_PORT, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  services = startStack({
    namespace: NAMESPACE,
    portOffset: OFFSET,
    auth,
    logDir: `${ROOT}/.cache/logs/${NAMESPACE}`,
    env: { SALESFORCE_LOGIN_URL: `http://127.0.0.1:${CRM_PORT}`, HUBSPOT_BASE_URL: `http://127.0.0.1:${CRM_PORT}`, NURTURE_PUBLIC_URL: `http://127.0.0.1:${8084 + OFFSET}` },
  });
  await mongo.connect();
  nats.start();
  await Promise.all([nats.ready(), ...SERVICES.map((s) => waitServing(grpcAddress(s, OFFSET), 90_000))]);
}, 120_000);

afterAll(async () => {
  intakeClient.close();
  crmSyncClient.close();
  await stopStack(services);
  await simulator?.close();
  await nats.close();
  await mongo.close();
});

// Generous: on a loaded 2-core machine a fresh stack's first lead can take a minute.
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 150_000) => poll(what, probe, timeoutMs, 300);

/** Every document of every collection of every service database of this namespace, where `needle` appears. */
async function search(needle: string): Promise<string[]> {
  const hits: string[] = [];
  const { databases } = await mongo.db().admin().listDatabases();
  for (const { name } of databases.filter((d) => d.name.startsWith(`leadmesh_${NAMESPACE}_`))) {
    for (const { name: collection } of await mongo.db(name).listCollections().toArray()) {
      for (const doc of await mongo.db(name).collection(collection).find({}).toArray()) {
        const text = JSON.stringify(doc) + Buffer.from(JSON.stringify(doc)).toString();
        // Event payloads in outboxes are binary protobuf: search their bytes too.
        const binaries = JSON.stringify(doc, (_k, v) => (v && v._bsontype === 'Binary' ? Buffer.from(v.buffer).toString('latin1') : v));
        if (text.toLowerCase().includes(needle) || binaries.toLowerCase().includes(needle)) hits.push(`${name}.${collection} ${String(doc._id)}`);
      }
    }
  }
  return hits;
}

describe('right to erasure', () => {
  it('removes the person from every service and the CRM, reports each service done, and stays gone after a replay', async () => {
    const email = `erase.me.${randomBytes(4).toString('hex')}@example-erasure.com`;
    const { leadId } = await intakeClient.submitLead({
      contact: { email, firstName: 'Erin', lastName: 'Erased', company: 'Forget Me GmbH', jobTitle: 'Head of Marketing', country: 'DE' },
      source: { formId: 'contact-sales' },
      interest: { product: 'analytics' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    });
    await eventually('the CRM sync', async () => ((await crmSyncClient.getSyncStatus({ leadId })).record?.status === crmsync.SyncStatus.SYNCED ? true : undefined));

    // The journey first: every service answers for its part.
    const journey = await intakeClient.getLeadJourney({ leadId });
    expect(journey.unavailable).toEqual([]);
    expect(new Set(journey.steps.map((s) => s.service))).toEqual(new Set(['intake', 'scoring', 'routing', 'nurture', 'crm-sync']));
    expect(journey.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect((await search(email)).length).toBeGreaterThan(0);
    expect(simulator.records('salesforce').some((r) => JSON.stringify(r).toLowerCase().includes(email))).toBe(true);

    const erasure = await intakeClient.eraseContact({ email: email.toUpperCase() });
    expect(erasure.leadId).toBe(leadId);
    const done = await eventually('every service to finish the erasure', async () => {
      const status = await intakeClient.getErasure({ erasureId: erasure.erasureId });
      return status.completed ? status : undefined;
    });
    expect(done.services.map((s) => s.service).sort()).toEqual([...SERVICES].sort());

    expect(await search(email)).toEqual([]);
    expect(simulator.records('salesforce').filter((r) => JSON.stringify(r).toLowerCase().includes(email))).toEqual([]);
    // Deleted for good, not to the Recycle Bin where a plain delete leaves the Lead restorable.
    expect(simulator.deleted('salesforce').filter((r) => JSON.stringify(r).toLowerCase().includes(email))).toEqual([]);
    await expect(intakeClient.getLead({ leadId })).rejects.toMatchObject({ code: 5 });

    // Replay every old event of the lead from the stream, as an operator replaying a backlog would.
    const stream = nats.topology.pipelineStream;
    const info = await nats.jsm.streams.info(stream);
    let replayed = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const msg = await nats.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!msg || msg.subject.endsWith('contact.erased') || msg.subject.endsWith('erasure.completed')) continue;
      if (!Buffer.from(msg.data).toString('latin1').includes(leadId)) continue;
      const h = headers();
      for (const key of msg.header.keys()) h.set(key, msg.header.get(key));
      await nats.js.publish(msg.subject, msg.data, { msgID: `replay-${seq}-${Date.now()}`, headers: h });
      replayed++;
    }
    expect(replayed).toBeGreaterThanOrEqual(3);
    // Give the consumers time to see them all, then look again.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await search(email)).toEqual([]);
    expect(simulator.records('salesforce').filter((r) => JSON.stringify(r).toLowerCase().includes(email))).toEqual([]);

    // Asking again finishes the same erasure.
    const again = await intakeClient.eraseContact({ email });
    expect(again.erasureId).toBe(erasure.erasureId);
  }, 420_000);

  it('an erasure that arrives while the lead\'s CRM upsert is in flight leaves nothing of the person in the CRM', async () => {
    const email = `erase.in.flight.${randomBytes(4).toString('hex')}@example-erasure.com`;
    const ofPerson = (records: unknown[]) => records.filter((r) => JSON.stringify(r).toLowerCase().includes(email));
    // The CRM takes the lead's upsert and answers only once the erasure is under way.
    simulator.holdUpserts();
    try {
      const { leadId } = await intakeClient.submitLead({
        contact: { email, firstName: 'Ines', lastName: 'Inflight', company: 'Forget Me GmbH', jobTitle: 'Head of Marketing', country: 'DE' },
        source: { formId: 'contact-sales' },
        interest: { product: 'analytics' },
        consent: { emailMarketing: true, wordingVersion: '2026-01' },
      });
      const upsertOfLead = () => simulator.requests().some((r) => r.method === 'PATCH' && r.path.endsWith(`/${leadId}`));
      await eventually('the CRM holding the lead\'s upsert', async () => (simulator.heldUpserts() > 0 ? true : undefined));
      expect(upsertOfLead()).toBe(false);

      const erasure = await intakeClient.eraseContact({ email });
      const crmSyncRecords = mongo.db(`leadmesh_${NAMESPACE}_crm_sync`).collection('sync_records');
      await eventually('crm-sync\'s tombstone of the lead', async () => ((await crmSyncRecords.findOne({ _id: leadId as never }))?.erasedAt ? true : undefined));
      simulator.releaseUpserts();

      await eventually('every service to finish the erasure', async () => ((await intakeClient.getErasure({ erasureId: erasure.erasureId })).completed ? true : undefined));
      // crm-sync's part ends with its CRM delete, made after its write of the lead ended: by the time
      // the erasure is complete and the held upsert answered, the CRM holds nothing of the person.
      await eventually('the CRM to answer the held upsert', async () => (upsertOfLead() ? true : undefined));
      expect(ofPerson(simulator.records('salesforce'))).toEqual([]);
      expect(ofPerson(simulator.deleted('salesforce'))).toEqual([]);
      expect(await search(email)).toEqual([]);
    } finally {
      simulator.releaseUpserts();
    }
  }, 420_000);
});
