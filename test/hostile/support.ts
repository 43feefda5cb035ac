// Intake alone, in its own namespace, for the hostile-input tests: its doors, its health, and a
// count of what it stored so a test can show that nothing hostile got in.
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { healthStatus, waitServing } from '../harness/health.ts';
import { ROOT, grpcAddress, httpUrl, startService, stopService, type RunningService } from '../harness/stack.ts';
import { SHARED_MONGO, SHARED_NATS, databaseName, freshNamespace } from '../chaos/support.ts';

export interface HostileIntake {
  grpc: string;
  http: string;
  /** Contacts and submissions intake holds in this namespace. */
  stored(): Promise<{ contacts: number; submissions: number }>;
  health(): Promise<string>;
  stop(): Promise<void>;
}

export async function startIntake(namespace: string, portOffset: number): Promise<HostileIntake> {
  await freshNamespace(namespace, SHARED_NATS, SHARED_MONGO);
  const service: RunningService = startService('intake', {
    namespace,
    portOffset,
    logDir: join(ROOT, '.cache', 'logs', namespace),
    env: { OTEL_SDK_DISABLED: 'true' },
  });
  const mongo = new MongoClient(SHARED_MONGO);
  const stop = async () => {
    await stopService(service);
    await mongo.close();
  };
  try {
    await waitServing(grpcAddress('intake', portOffset), 120_000);
    await mongo.connect();
  } catch (err) {
    await stop();
    throw err;
  }
  const db = mongo.db(databaseName(namespace, 'intake'));
  return {
    grpc: grpcAddress('intake', portOffset),
    http: httpUrl('intake', portOffset),
    stored: async () => ({ contacts: await db.collection('contacts').countDocuments(), submissions: await db.collection('submissions').countDocuments() }),
    health: () => healthStatus(grpcAddress('intake', portOffset)),
    stop,
  };
}

/** Every place a value can land in the stored documents, searched for a marker. */
export async function markerStored(intake: HostileIntake, namespace: string, marker: string): Promise<boolean> {
  const mongo = await new MongoClient(SHARED_MONGO).connect();
  try {
    const db = mongo.db(databaseName(namespace, 'intake'));
    for (const name of ['contacts', 'submissions']) {
      for (const doc of await db.collection(name).find({}).toArray()) if (JSON.stringify(doc).includes(marker)) return true;
    }
    return false;
  } finally {
    await mongo.close();
  }
}
