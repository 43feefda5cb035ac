// The contact-keys bucket against the real NATS, as two replicas see it: a key is made once and
// every replica gets the same one; a purge (erasure) is final, for the replica that shreds, for a
// replica that has never seen the key, and for intake asked to issue it again.
import { randomUUID } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { ContactKeys, EventConsumers, EventPublisher, EventSealing, Metrics, NatsClient, contactKeyId, createLogger, encodeEvent, ensureStreams, topology } from '@leadmesh/platform';

const namespace = `keys-${randomUUID().slice(0, 8)}`;
const logger = createLogger('contact-keys-test', 'silent');
const nats = new NatsClient('nats://127.0.0.1:4222', 'contact-keys-test', logger, topology(namespace));
const options = { maxCached: 2, ttlMs: 60_000 };

beforeAll(async () => {
  nats.start();
  await nats.ready();
  await ensureStreams(nats.jsm, nats.topology);
});

afterAll(async () => {
  for (const stream of [nats.topology.pipelineStream, nats.topology.deadLetterStream, `KV_${nats.topology.contactKeysBucket}`]) await nats.jsm.streams.delete(stream).catch(() => undefined);
  await nats.close();
});

const hex = (k: { state: string; key?: { key: Uint8Array } }) => (k.state === 'live' ? Buffer.from(k.key!.key).toString('hex') : k.state);

describe('contact keys', () => {
  it('issues one key per contact: a second replica issuing or reading it gets the same key', async () => {
    const lead = randomUUID();
    const intakeA = new ContactKeys(nats, new Metrics('intake'), options);
    const intakeB = new ContactKeys(nats, new Metrics('intake'), options);
    const scoring = new ContactKeys(nats, new Metrics('scoring'), options);
    expect(await scoring.lookup(lead)).toEqual({ state: 'missing' });
    const issued = await intakeA.issue(lead);
    expect(issued.state).toBe('live');
    expect(hex(await intakeB.issue(lead))).toBe(hex(issued));
    expect(hex(await scoring.lookup(lead))).toBe(hex(issued));
  });

  it('shreds for good: purged from the bucket, never issued again, unknown to every replica', async () => {
    const lead = randomUUID();
    const intakeA = new ContactKeys(nats, undefined, options);
    const routing = new ContactKeys(nats, undefined, options);
    await intakeA.issue(lead);
    expect((await routing.lookup(lead)).state).toBe('live');
    await intakeA.shred(lead);
    const bucket = await new Kvm(nats.js).open(nats.topology.contactKeysBucket);
    const entry = await bucket.get(contactKeyId(lead));
    expect(entry?.operation).toBe('PURGE');
    expect(entry?.value.byteLength).toBe(0);
    expect(await intakeA.issue(lead)).toEqual({ state: 'shredded' });
    expect(await new ContactKeys(nats, undefined, options).issue(lead)).toEqual({ state: 'shredded' });
    expect(await new ContactKeys(nats, undefined, options).lookup(lead)).toEqual({ state: 'shredded' });
    // A replica that cached the key drops it when it learns of the erasure (Erasures.onErased).
    routing.forget(lead);
    expect(await routing.lookup(lead)).toEqual({ state: 'shredded' });
  });

  it('keeps a bounded cache: an evicted key is read again, the same', async () => {
    const metrics = new Metrics('routing');
    const keys = new ContactKeys(nats, metrics, options);
    const bucketReads = async () => (await metrics.contactKeyLookups.get()).values.find((v) => v.labels.source === 'bucket')?.value ?? 0;
    const leads = [randomUUID(), randomUUID(), randomUUID()];
    const issued = [];
    for (const lead of leads) issued.push(hex(await keys.issue(lead)));
    expect(hex(await keys.lookup(leads[2]!))).toBe(issued[2]);
    expect(await bucketReads()).toBe(0);
    // maxCached 2: the first left memory, and comes back from the bucket unchanged.
    expect(hex(await keys.lookup(leads[0]!))).toBe(issued[0]);
    expect(await bucketReads()).toBe(1);
  });
});

describe('events of an erased contact', () => {
  it('are dropped by a consumer that finds the key shredded: not applied, not parked, the events after them flow on', async () => {
    const intake = new ContactKeys(nats, undefined, options);
    const publisher = new EventPublisher(nats, new EventSealing(intake, true));
    const received = (leadId: string) =>
      encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, { eventId: `lead.received:${randomUUID()}`, leadId, submissionId: randomUUID(), profile: { contact: { email: `${leadId}@example.com` } } });
    const gone = randomUUID();
    const after = randomUUID();
    // Published sealed while the contact existed, then erased before any consumer took it.
    await publisher.publish(received(gone));
    await intake.shred(gone);
    expect(await publisher.publish(received(gone)).then(() => 'resolved')).toBe('resolved');
    await publisher.publish(received(after));

    // Another service, whose replica never saw the key.
    const consumers = new EventConsumers(nats, new Metrics('scoring'), logger, { maxDeliver: 2, backoffMs: [50], concurrency: 4, ackWaitMs: 5000 });
    consumers.openSealedEvents(new EventSealing(new ContactKeys(nats, undefined, options), false));
    const handled: Array<{ leadId: string; email: string }> = [];
    consumers.register({
      durable: 'keys-test-received',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: async (event) => void handled.push({ leadId: event.leadId, email: event.profile?.contact?.email ?? '' }),
    });
    consumers.start();
    try {
      // Both events acknowledged: the stream holds two (the publish after the shred sent nothing).
      const info = () => nats.jsm.consumers.info(nats.topology.pipelineStream, 'keys-test-received');
      const deadline = Date.now() + 20_000;
      // The consumer is made once the service's consumers start.
      const acked = () => info().then((c) => c.ack_floor.stream_seq, () => 0);
      while ((await acked()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const consumer = await info();
      expect(consumer.ack_floor.stream_seq).toBe(2);
      expect(consumer.num_pending + consumer.num_ack_pending).toBe(0);
      // The live contact's event opened for its handler; the erased one's never reached it.
      expect(handled).toEqual([{ leadId: after, email: `${after}@example.com` }]);
      expect(consumer.delivered.stream_seq).toBe(2);
      expect((await nats.jsm.streams.info(nats.topology.deadLetterStream)).state.messages).toBe(0);
    } finally {
      await consumers.stop();
    }
  }, 30_000);
});
