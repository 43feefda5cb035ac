// Provisioning of the event backbone: creates the streams and the contact-keys bucket, or brings
// their configuration up to date, as the admin user (NATS_NKEY_SEED_FILE), for LEADMESH_NAMESPACE's
// topology. The services' own users may not create, change or delete streams; they wait until this
// has run.
//   node packages/platform/dist/nats/provision.js
// In a cluster the nats-provision Job runs it; locally the test harness and the suite do, for each
// namespace. NATS_PROVISION_RETRY=true keeps trying (10 minutes) until the server answers.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsConnectOptions, natsIdentityFromEnv } from './connection.js';
import { ensureStreams, topology } from './streams.js';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const retry = process.env.NATS_PROVISION_RETRY === 'true';
const t = topology();
const deadline = Date.now() + 10 * 60_000;

for (;;) {
  try {
    const nc = await connect({ servers: url.split(','), name: 'leadmesh-provision', timeout: 10_000, ...natsConnectOptions(natsIdentityFromEnv()) });
    try {
      await ensureStreams(await jetstreamManager(nc, { timeout: 10_000 }), t);
    } finally {
      await nc.close();
    }
    process.stdout.write(`${JSON.stringify({ msg: 'streams provisioned', streams: [t.pipelineStream, t.deadLetterStream, `KV_${t.contactKeysBucket}`] })}\n`);
    break;
  } catch (err) {
    if (!retry || Date.now() > deadline) throw err;
    await new Promise((r) => setTimeout(r, 500));
  }
}
