import { nanos } from '@nats-io/nats-core';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';

/** The pipeline stream: every leadmesh event, subjects leadmesh.<entity>.<event>. */
export const PIPELINE_STREAM = 'LEADMESH';
/** Events a consumer gave up on, with the error, until someone replays them. */
export const DEAD_LETTER_STREAM = 'LEADMESH_DEAD_LETTERS';
export const DEAD_LETTER_PREFIX = 'leadmesh-dead-letter';

const replicas = () => Number(process.env.NATS_STREAM_REPLICAS ?? 1);

const streams = (): Array<Partial<StreamConfig> & { name: string }> => [
  {
    name: PIPELINE_STREAM,
    subjects: ['leadmesh.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    // Retried publishes with the same Nats-Msg-Id inside this window are dropped.
    duplicate_window: nanos(120_000),
    max_age: nanos(7 * 24 * 3600 * 1000),
    discard: DiscardPolicy.Old,
    num_replicas: replicas(),
  },
  {
    name: DEAD_LETTER_STREAM,
    subjects: [`${DEAD_LETTER_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(120_000),
    max_age: nanos(30 * 24 * 3600 * 1000),
    num_replicas: replicas(),
  },
];

/** Creates the streams, or brings an existing one's configuration up to date. Safe to run from every replica. */
export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  for (const config of streams()) {
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

export function isNotFound(err: unknown): boolean {
  const message = String((err as Error)?.message ?? '');
  return message.includes('not found') || (err as { code?: number | string })?.code === 404;
}
