import { nanos } from '@nats-io/nats-core';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';

/**
 * Where events live. By default the pipeline stream LEADMESH holds subjects leadmesh.<entity>.<event>.
 * A namespace (LEADMESH_NAMESPACE) gives an environment or a test run its own streams and subjects
 * on a shared NATS, so two suites never consume each other's events.
 */
export interface Topology {
  namespace: string;
  pipelineStream: string;
  deadLetterStream: string;
  /** The wire subject for a contract subject such as leadmesh.lead.received. */
  subject(contractSubject: string): string;
  /** The contract subject of a wire subject. */
  contractSubject(wireSubject: string): string;
  deadLetterSubject(durable: string): string;
  /** The key-value bucket of the contacts' data keys (crypto-shredding); its stream is KV_<bucket>. */
  contactKeysBucket: string;
}

export function topology(namespace = process.env.LEADMESH_NAMESPACE ?? ''): Topology {
  if (namespace && !/^[a-z0-9_-]{1,32}$/.test(namespace)) throw new Error(`LEADMESH_NAMESPACE must match [a-z0-9_-]{1,32}, got "${namespace}"`);
  const prefix = namespace ? `${namespace}.` : '';
  const suffix = namespace ? `_${namespace.toUpperCase().replace(/-/g, '_')}` : '';
  return {
    namespace,
    pipelineStream: `LEADMESH${suffix}`,
    deadLetterStream: `LEADMESH${suffix}_DEAD_LETTERS`,
    subject: (s) => `${prefix}${s}`,
    contractSubject: (s) => (prefix && s.startsWith(prefix) ? s.slice(prefix.length) : s),
    deadLetterSubject: (durable) => `${prefix}leadmesh-dead-letter.${durable}`,
    contactKeysBucket: `leadmesh_contact_keys${namespace ? `_${namespace}` : ''}`,
  };
}

const replicas = () => Number(process.env.NATS_STREAM_REPLICAS ?? 1);

const streams = (t: Topology): Array<Partial<StreamConfig> & { name: string }> => [
  {
    name: t.pipelineStream,
    subjects: [t.subject('leadmesh.>')],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    // Retried publishes with the same Nats-Msg-Id inside this window are dropped.
    duplicate_window: nanos(120_000),
    max_age: nanos(7 * 24 * 3600 * 1000),
    discard: DiscardPolicy.Old,
    num_replicas: replicas(),
  },
  {
    name: t.deadLetterStream,
    subjects: [t.deadLetterSubject('>')],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(120_000),
    max_age: nanos(30 * 24 * 3600 * 1000),
    num_replicas: replicas(),
    // Operators list a service's parked events by subject (direct gets), without a consumer.
    allow_direct: true,
  },
  {
    // The contacts' data keys, as a JetStream key-value bucket (what @nats-io/kv opens): one
    // message per key (history 1), no age limit (a key lives as long as its contact), and a
    // purge (rollup) leaves only a marker, so an erased contact's key is gone from the stream.
    // Reads go to the stream leader (no direct gets): a consumer must see a key intake has just
    // written before it publishes the contact's first event.
    name: `KV_${t.contactKeysBucket}`,
    subjects: [`$KV.${t.contactKeysBucket}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_msgs_per_subject: 1,
    max_msg_size: 1024,
    discard: DiscardPolicy.New,
    allow_rollup_hdrs: true,
    deny_delete: true,
    deny_purge: false,
    allow_direct: false,
    num_replicas: replicas(),
  },
];

/** Creates the streams, or brings an existing one's configuration up to date. Safe to run from every replica. */
export async function ensureStreams(jsm: JetStreamManager, t: Topology): Promise<void> {
  for (const config of streams(t)) {
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(config);
      } catch (addErr) {
        // Another replica created it first.
        if (!String((addErr as Error).message).includes('already in use')) throw addErr;
      }
    }
  }
}

/**
 * For a service, whose user may not create or change streams: resolves once provisioning
 * (`scripts/nats-provision`, the k8s Job) has created them, and says what is missing otherwise.
 */
export async function awaitStreams(jsm: JetStreamManager, t: Topology): Promise<void> {
  for (const { name } of streams(t)) {
    try {
      await jsm.streams.info(name);
    } catch (err) {
      if (isNotFound(err)) throw new Error(`stream ${name} does not exist yet: provisioning (the admin user) creates it`);
      throw err;
    }
  }
}

export function isNotFound(err: unknown): boolean {
  const message = String((err as Error)?.message ?? '');
  return message.includes('not found') || (err as { code?: number | string })?.code === 404;
}
