// A service's store classes against the local FerretDB, for tests of one store without the whole
// service: a database of its own (dropped afterwards) and the outbox every store class takes.
import { randomUUID } from 'node:crypto';
import { EventPublisher, Metrics, MongoStore, NatsClient, Outbox, createLogger, topology } from '@leadmesh/platform';
import { TEST_NATS_URL } from './stack.ts';

export interface TestStore {
  store: MongoStore;
  outbox: Outbox;
  /** Connects; a test's beforeAll. */
  start(): Promise<void>;
  /** Drops the database and disconnects; a test's afterAll. */
  stop(): Promise<void>;
}

export function testStore(name: string): TestStore {
  const namespace = `${name}-${randomUUID().slice(0, 8)}`;
  const logger = createLogger(name, 'silent');
  const nats = new NatsClient(TEST_NATS_URL, name, logger, topology(namespace));
  const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_${namespace.replace(/-/g, '_')}`, logger);
  return {
    store,
    outbox: new Outbox(new EventPublisher(nats), nats, new Metrics(name), logger),
    async start() {
      store.start();
      await store.ready();
    },
    async stop() {
      await store.connection.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}

/**
 * An outbox whose events are never published, as if the broker were down: they stay on the
 * documents. For tests of a store's writes where publishing is not under test.
 */
export const keptInOutbox = {
  track: () => undefined,
  flush: async () => false,
  flushEntries: async () => false,
  flushStored: async () => false,
} as unknown as Outbox;
