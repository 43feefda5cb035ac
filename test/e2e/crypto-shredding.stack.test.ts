// Crypto-shredding, end to end: the personal fields of every event travel sealed with the contact's
// own key, so neither the pipeline stream nor the dead-letter stream ever holds the address in
// readable form; erasure purges the key, after which no sealed copy opens again, and the parked
// copies leave the dead letters on replay instead of failing again.
import { randomBytes } from 'node:crypto';
import { fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { StoredMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { SUBJECTS, crmsync, events, intake, parkedevents } from '@leadmesh/contracts';
import { EVENT_ID_HEADER, NatsClient, contactKeyId, createClient, createLogger, openEvent, sealedPart, topology } from '@leadmesh/platform';
import { SHARED_MONGO, freshNamespace } from '../chaos/support.ts';
import { startCrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { eventually as poll } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { METRICS_PORTS, ROOT, SERVICES, TEST_NATS_URL, allScopes, createStackAuth, grpcAddress, startStack, stopStack, type RunningService } from '../harness/stack.ts';

const OFFSET = 470;
const NAMESPACE = 'shred';
const CRM_PORT = 8090 + OFFSET;

let services: RunningService[] = [];
let simulator: Awaited<ReturnType<typeof startCrmSimulator>>;
// As the admin (test/harness/nats-env.ts): it provisions the namespace's streams and the key bucket.
const nats = new NatsClient(TEST_NATS_URL, 'shred-test', createLogger('test', 'silent'), topology(NAMESPACE));
const auth = await createStackAuth();
const token = await auth.token(await allScopes(), 'team:privacy');
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token, timeoutMs: 10_000 });
const crmSyncClient = createClient(crmsync.CrmSyncService, grpcAddress('crm-sync', OFFSET), { token });
const parkedIn = (service: 'nurture' | 'crm-sync') => createClient(parkedevents.ParkedEventsService, grpcAddress(service, OFFSET), { token });
const nurtureParked = parkedIn('nurture');
const crmSyncParked = parkedIn('crm-sync');

beforeAll(async () => {
  // What an earlier run left (streams, and submissions still in intake's outbox) would be published
  // by this run's services and counted against it.
  await freshNamespace(NAMESPACE, TEST_NATS_URL, SHARED_MONGO);
  simulator = await startCrmSimulator({ port: CRM_PORT, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  nats.start();
  await nats.ready();
  services = startStack({
    namespace: NAMESPACE,
    portOffset: OFFSET,
    auth,
    logDir: `${ROOT}/.cache/logs/${NAMESPACE}`,
    env: { SALESFORCE_LOGIN_URL: `http://127.0.0.1:${CRM_PORT}`, HUBSPOT_BASE_URL: `http://127.0.0.1:${CRM_PORT}`, NURTURE_PUBLIC_URL: `http://127.0.0.1:${8084 + OFFSET}` },
  });
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, OFFSET), 90_000)));
}, 120_000);

afterAll(async () => {
  intakeClient.close();
  crmSyncClient.close();
  nurtureParked.close();
  crmSyncParked.close();
  await stopStack(services);
  await simulator?.close();
  await nats.close();
});

const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 150_000) => poll(what, probe, timeoutMs, 300);

const SCHEMAS: Record<string, DescMessage> = {
  [SUBJECTS.leadReceived]: events.LeadReceivedSchema,
  [SUBJECTS.activityRecorded]: events.ActivityRecordedSchema,
  [SUBJECTS.leadScored]: events.LeadScoredSchema,
  [SUBJECTS.leadRouted]: events.LeadRoutedSchema,
  [SUBJECTS.leadReassigned]: events.LeadReassignedSchema,
};

/** Every message of a stream, payload and headers. */
async function messagesOf(stream: string): Promise<StoredMsg[]> {
  const info = await nats.jsm.streams.info(stream);
  const found: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await nats.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg) found.push(msg);
  }
  return found;
}

/** Where `needle` is readable: in a payload or a header of a message of the stream. */
function readable(messages: StoredMsg[], needle: string): string[] {
  const lower = needle.toLowerCase();
  return messages
    .filter((m) => {
      const headerText = [...(m.header?.keys() ?? [])].map((k) => `${k}: ${m.header.get(k)}`).join('\n');
      return Buffer.from(m.data).toString('latin1').toLowerCase().includes(lower) || headerText.toLowerCase().includes(lower);
    })
    .map((m) => `${m.subject}#${m.seq}`);
}

/** The lead's messages with a sealed part, decoded by the schema of the subject they were published on. */
function sealedOf(messages: StoredMsg[], leadId: string, subjectOf: (m: StoredMsg) => string) {
  const t = topology(NAMESPACE);
  return messages.flatMap((m) => {
    const schema = SCHEMAS[t.contractSubject(subjectOf(m))];
    if (!schema) return [];
    const event = fromBinary(schema, m.data) as { leadId: string };
    return event.leadId === leadId && sealedPart(schema, event as never) ? [{ schema, event, msg: m }] : [];
  });
}

/** leadmesh_contact_key_lookups_total of a service, by source. */
async function keyLookups(service: (typeof SERVICES)[number]): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS_PORTS[service] + OFFSET}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^leadmesh_contact_key_lookups_total\{source="(\w+)"[^}]*\} (\d+)/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}

describe('crypto-shredding of the personal data in events', () => {
  it('costs one read of the key bucket per lead and service at most, not one per event', async () => {
    const before = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await keyLookups(s)] as const)));
    const leads = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        intakeClient.submitLead({
          contact: { email: `cost.${i}.${randomBytes(4).toString('hex')}@example-shredding.com`, firstName: 'Cody', lastName: 'Cost', company: 'Initech', jobTitle: 'CTO', country: 'US', companySize: 500 },
          source: { formId: 'contact-sales' },
          consent: { emailMarketing: true, wordingVersion: '2026-01' },
        }),
      ),
    );
    for (const { leadId } of leads) await eventually('the CRM sync', async () => ((await crmSyncClient.getSyncStatus({ leadId })).record?.status === crmsync.SyncStatus.SYNCED ? true : undefined));
    const spent: Record<string, Record<string, number>> = {};
    for (const service of SERVICES) {
      const after = await keyLookups(service);
      spent[service] = Object.fromEntries(Object.entries(after).map(([source, n]) => [source, n - (before[service]![source] ?? 0)]).filter(([, n]) => (n as number) > 0));
    }
    // Intake makes each new contact's key (one write), the others read it once and then use their cache.
    expect(spent.intake).toEqual({ issued: leads.length });
    for (const service of ['scoring', 'routing', 'nurture', 'crm-sync'] as const) {
      expect(spent[service]!.bucket ?? 0).toBeLessThanOrEqual(leads.length);
      expect(spent[service]!.missing ?? 0).toBe(0);
    }
    // Scoring seals lead.scored, routing lead.routed, nurture and crm-sync open two or three events a lead, all from the cache after the first.
    for (const service of ['scoring', 'routing', 'nurture', 'crm-sync'] as const) expect(spent[service]!.cache ?? 0).toBeGreaterThanOrEqual(leads.length);
  }, 300_000);

  it('keeps the address sealed in the streams and dead letters, and erasure leaves no copy that opens', async () => {
    const t = topology(NAMESPACE);
    const email = `shred.me.${randomBytes(4).toString('hex')}@example-shredding.com`;
    const { leadId } = await intakeClient.submitLead({
      // A student: a low fit, so the first score is no MQL (see the misrouted copy below).
      contact: { email, firstName: 'Sheila', lastName: 'Shredded', company: 'Forget Me GmbH', jobTitle: 'Student', country: 'AQ' },
      source: { formId: 'contact-sales' },
      interest: { product: 'analytics' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    });
    await eventually('the CRM sync', async () => ((await crmSyncClient.getSyncStatus({ leadId })).record?.status === crmsync.SyncStatus.SYNCED ? true : undefined));

    // Every event of the lead that holds personal data went out sealed: the pipeline never held the address.
    const pipeline = await messagesOf(t.pipelineStream);
    expect(readable(pipeline, email)).toEqual([]);
    const sealedInPipeline = sealedOf(pipeline, leadId, (m) => m.subject);
    expect(new Set(sealedInPipeline.map((s) => t.contractSubject(s.msg.subject)))).toEqual(new Set([SUBJECTS.leadReceived, SUBJECTS.leadScored, SUBJECTS.leadRouted]));

    // A copy of the lead's lead.scored republished on lead.routed by mistake (its fields decode as
    // a LeadRouted, since the score made no MQL): its seal belongs to another event type, so each
    // consumer of lead.routed parks it as poison, sealed, in the dead-letter stream.
    const scored = sealedInPipeline.find((s) => s.msg.subject === t.subject(SUBJECTS.leadScored))!;
    expect((scored.event as events.LeadScored).becameMql).toBe(false);
    const h = natsHeaders();
    h.set(EVENT_ID_HEADER, `misrouted:${leadId}`);
    await nats.js.publish(t.subject(SUBJECTS.leadRouted), scored.msg.data, { msgID: `misrouted:${leadId}`, headers: h });
    for (const parkedClient of [nurtureParked, crmSyncParked]) {
      const parked = await eventually('the misrouted copy parked', async () => {
        const { parkedEvents } = await parkedClient.listParkedEvents({ pageSize: 100 });
        return parkedEvents.find((p) => p.eventId === `misrouted:${leadId}`);
      });
      expect(parked.leadId).toBe(leadId);
    }
    const deadLetters = await messagesOf(t.deadLetterStream);
    expect(readable(deadLetters, email)).toEqual([]);
    const sealedParked = sealedOf(deadLetters, leadId, () => SUBJECTS.leadScored);
    expect(sealedParked.length).toBe(2);

    // Positive control: the contact's key, as every service reads it, opens every sealed copy.
    const bucket = await new Kvm(nats.js).open(t.contactKeysBucket);
    const live = await bucket.get(contactKeyId(leadId));
    expect(live?.operation).toBe('PUT');
    const key = { keyId: contactKeyId(leadId), key: new Uint8Array(live!.value) };
    for (const { schema, msg } of [...sealedInPipeline, ...sealedParked]) {
      const copy = fromBinary(schema, msg.data);
      openEvent(schema, copy, key);
      expect((copy as { profile?: { contact?: { email?: string } } }).profile?.contact?.email).toBe(email);
    }

    // Erasure: the key is purged before intake answers.
    const erasure = await intakeClient.eraseContact({ email });
    expect(erasure.leadId).toBe(leadId);
    const gone = await bucket.get(contactKeyId(leadId));
    expect(gone?.operation).toBe('PURGE');
    expect(gone?.value.byteLength).toBe(0);
    // No message of the bucket's stream holds the key's bytes any more (history 1, rolled up).
    const keyText = Buffer.from(key.key).toString('latin1');
    expect((await messagesOf(`KV_${t.contactKeysBucket}`)).filter((m) => Buffer.from(m.data).toString('latin1').includes(keyText))).toEqual([]);

    // Nothing readable anywhere on the backbone, and the sealed copies are still there, unopenable
    // by any key the bucket gives.
    const pipelineAfter = await messagesOf(t.pipelineStream);
    const deadLettersAfter = await messagesOf(t.deadLetterStream);
    expect(readable(pipelineAfter, email)).toEqual([]);
    expect(readable(deadLettersAfter, email)).toEqual([]);
    expect(sealedOf(pipelineAfter, leadId, (m) => m.subject).length).toBeGreaterThan(sealedInPipeline.length);

    // A replay of the parked copies finds the contact erased: they leave the dead letters, nothing
    // fails again and nothing is applied.
    for (const parkedClient of [nurtureParked, crmSyncParked]) {
      const tally = await parkedClient.replayParkedEvents({ target: { case: 'all', value: true } });
      expect(tally.failed).toBe(0);
      expect(tally.replayed).toBeGreaterThanOrEqual(1);
    }
    expect(sealedOf(await messagesOf(t.deadLetterStream), leadId, () => SUBJECTS.leadScored)).toEqual([]);

    const done = await eventually('every service to finish the erasure', async () => {
      const status = await intakeClient.getErasure({ erasureId: erasure.erasureId });
      return status.completed ? status : undefined;
    });
    expect(done.services.map((s) => s.service).sort()).toEqual([...SERVICES].sort());
  }, 420_000);
});
