// One hop of a bare JetStream chain: a durable pull consumer that decodes the event, republishes
// the next one (awaiting the stream's ack, de-duplicated by Nats-Msg-Id) and acks, with the
// platform's pull settings and concurrency. With a store (baseline 3) it first writes one document
// for the lead to its own database, an upsert keyed by the lead as a service's one write per event.
// Nothing else: no tracing, no mongoose. One process per hop, as each pipeline hop is its own
// service. Prints "ready" once consuming.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { MongoClient } from 'mongodb';
import { events } from '../packages/contracts/dist/index.js';
import { adminConnectOptions } from '../test/harness/nats.ts';

const [stream, from, to, mongoUrl, database] = process.argv.slice(2);
if (!stream || !from || !to) throw new Error('usage: chain-worker.ts <stream> <from-subject> <to-subject> [<mongo-url> <database>]');
const concurrency = 32;

// The services' pool size (MONGO_POOL_SIZE), so the store sees the same number of connections per hop.
const mongo = mongoUrl && database ? new MongoClient(mongoUrl, { maxPoolSize: Number(process.env.MONGO_POOL_SIZE ?? 20) }) : undefined;
const leads = mongo?.db(database).collection<{ _id: string; eventId: string; stage: string; at: Date }>('leads');
if (leads) {
  // The first write to a new database creates it (a schema and a table on PostgreSQL): not in the measured time.
  await leads.updateOne({ _id: 'warm-up' }, { $set: { eventId: 'warm-up', stage: from, at: new Date() } }, { upsert: true });
}

const nc = await connect({ servers: '127.0.0.1:4222', name: `bench-chain-${from}`, ...adminConnectOptions() });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const durable = `hop_${from.replace(/\W/g, '_')}`;
await jsm.consumers.add(stream, {
  durable_name: durable,
  filter_subject: from,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: nanos(30_000),
  max_ack_pending: 1000,
});
const messages = await (await js.consumers.get(stream, durable)).consume({ max_messages: concurrency });
console.log('ready');

const inFlight = new Set<Promise<void>>();
async function hop(msg: JsMsg): Promise<void> {
  const event = fromBinary(events.CrmSyncedSchema, msg.data);
  const eventId = `${event.leadId}:${to}`;
  if (leads) await leads.updateOne({ _id: event.leadId }, { $set: { eventId: event.eventId, stage: to!, at: new Date() } }, { upsert: true });
  await js.publish(to!, toBinary(events.CrmSyncedSchema, create(events.CrmSyncedSchema, { eventId, leadId: event.leadId })), { msgID: eventId });
  msg.ack();
}
process.on('SIGTERM', () =>
  void messages
    .close()
    .then(() => nc.drain())
    .then(() => mongo?.close())
    .then(() => process.exit(0)),
);
for await (const msg of messages) {
  const job = hop(msg)
    .catch(() => msg.nak(200))
    .finally(() => inFlight.delete(job));
  inFlight.add(job);
  if (inFlight.size >= concurrency) await Promise.race(inFlight);
}
