// What a service's NATS user can and cannot do, asked of a real server: shared by the test of the
// cluster's permissions (test/deploy/nats.test.ts, a private server) and of the local backbone
// (test/e2e/backbone.stack.test.ts, the shared server locked by scripts/infra.sh).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { backboneGrant, BACKBONE_SERVICES, inboxPrefix, natsConnectOptions, type ServiceName, type Topology } from '@leadmesh/platform';
import { NATS_AUTH_DIR, type NatsUser } from './nats.ts';

export function identityOf(user: NatsUser, dir = NATS_AUTH_DIR) {
  return {
    nkeySeed: readFileSync(join(dir, `${user}.nk`), 'utf8').trim(),
    tlsCaFile: join(dir, 'ca.crt'),
    inboxPrefix: user === 'admin' ? undefined : inboxPrefix(user),
  };
}

export function connectAs(url: string, user: NatsUser, dir = NATS_AUTH_DIR): Promise<NatsConnection> {
  return connect({ servers: url, name: `locks-${user}`, timeout: 5000, maxReconnectAttempts: 0, ...natsConnectOptions(identityOf(user, dir)) });
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'allowed',
    (err: Error) => (/permissions violation/i.test(err.message) ? 'refused' : `failed otherwise: ${err.message}`),
  );

/** Every subject some other service owns and this one does not. */
export function foreignSubjects(service: ServiceName): string[] {
  const own = new Set(backboneGrant(service).publishes);
  return [...new Set(BACKBONE_SERVICES.flatMap((s) => backboneGrant(s).publishes))].filter((s) => !own.has(s));
}

export interface LockReport {
  ownPublishes: Record<string, string>;
  foreignPublishes: Record<string, string>;
  streamChanges: Record<string, string>;
  foreignConsumers: Record<string, string>;
  reads: Record<string, string>;
  /** The contact-keys bucket: every service reads a key, only intake writes and purges one. */
  contactKeys: { read: string; write: string; purge: string };
}

/**
 * Tries, as `service`, everything it must and must not do. Its own subjects are published for
 * real (into `t`'s stream), so give it a topology whose consumers nobody runs.
 */
export async function tryLocks(url: string, service: ServiceName, t: Topology, dir = NATS_AUTH_DIR): Promise<LockReport> {
  const nc = await connectAs(url, service, dir);
  try {
    const js = jetstream(nc, { timeout: 3000 });
    const jsm = await jetstreamManager(nc, { timeout: 3000 });
    const report: LockReport = { ownPublishes: {}, foreignPublishes: {}, streamChanges: {}, foreignConsumers: {}, reads: {}, contactKeys: { read: '', write: '', purge: '' } };
    for (const subject of backboneGrant(service).publishes) {
      report.ownPublishes[subject] = await refusal(js.publish(t.subject(subject), new Uint8Array([1]), { msgID: `locks:${service}:${subject}:${Date.now()}` }));
    }
    for (const subject of foreignSubjects(service)) {
      report.foreignPublishes[subject] = await refusal(js.publish(t.subject(subject), new Uint8Array([1])));
    }
    for (const stream of [t.pipelineStream, t.deadLetterStream, `KV_${t.contactKeysBucket}`]) {
      report.streamChanges[`delete ${stream}`] = await refusal(jsm.streams.delete(stream));
      report.streamChanges[`purge ${stream}`] = await refusal(jsm.streams.purge(stream));
      report.streamChanges[`update ${stream}`] = await refusal(jsm.streams.update(stream, { max_msgs: 1 }));
    }
    report.streamChanges['create another stream'] = await refusal(jsm.streams.add({ name: `LOCKS_${service.toUpperCase().replace(/-/g, '_')}`, subjects: ['locks.>'] }));
    const ownDurable = backboneGrant(service).consumes[0]!.durable;
    for (const other of BACKBONE_SERVICES.filter((s) => s !== service)) {
      const theirs = backboneGrant(other).consumes[0]!;
      report.foreignConsumers[`create ${theirs.durable}`] = await refusal(
        jsm.consumers.add(t.pipelineStream, { durable_name: theirs.durable, filter_subject: t.subject(theirs.subject), ack_policy: AckPolicy.Explicit }),
      );
      report.foreignConsumers[`pull ${theirs.durable}`] = await refusal(nc.request(`$JS.API.CONSUMER.MSG.NEXT.${t.pipelineStream}.${theirs.durable}`, '{"batch":1,"expires":100000000}', { timeout: 2000 }));
    }
    // Its own durable name bound to a subject it does not consume.
    const unwanted = foreignSubjects(service).find((s) => !backboneGrant(service).consumes.some((c) => c.subject === s))!;
    report.foreignConsumers[`own durable on ${unwanted}`] = await refusal(
      jsm.consumers.add(t.pipelineStream, { durable_name: ownDurable, filter_subject: t.subject(unwanted), ack_policy: AckPolicy.Explicit }),
    );
    report.reads[`message 1 of ${t.pipelineStream}`] = await refusal(jsm.streams.getMessage(t.pipelineStream, { seq: 1 }));
    report.reads['subscribe leadmesh.>'] = await subscribeRefusal(nc, t.subject('leadmesh.>'));
    const otherInbox = inboxPrefix(BACKBONE_SERVICES.find((s) => s !== service)!);
    report.reads[`subscribe ${otherInbox}.>`] = await subscribeRefusal(nc, `${otherInbox}.>`);
    report.reads['subscribe _INBOX.>'] = await subscribeRefusal(nc, '_INBOX.>');
    const keys = await new Kvm(js).open(t.contactKeysBucket, { allow_direct: false });
    const keyName = `locks-${service}`;
    report.contactKeys.read = await refusal(keys.get(keyName));
    report.contactKeys.write = await refusal(keys.put(keyName, new Uint8Array(32)));
    report.contactKeys.purge = await refusal(keys.purge(keyName));
    return report;
  } finally {
    await nc.close();
  }
}

async function subscribeRefusal(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject);
  const closed = await Promise.race([sub.closed, new Promise((r) => setTimeout(() => r('open'), 1500))]);
  if (closed === 'open') {
    sub.unsubscribe();
    return 'allowed';
  }
  return closed instanceof Error && /permissions violation/i.test(closed.message) ? 'refused' : `closed otherwise: ${String(closed)}`;
}

export const every = (values: Record<string, string>, expected: string) => Object.fromEntries(Object.keys(values).map((k) => [k, expected]));
