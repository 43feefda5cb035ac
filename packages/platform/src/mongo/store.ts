import mongoose, { type Connection, type Model, type Schema } from 'mongoose';
import type { Logger } from 'pino';
import { storeCommands } from '../metrics.js';
import { PeriodicWork } from '../periodic-work.js';
import { detectNonAtomicUpdates, sweepRevisionClaims } from './revision-claims.js';

// One classification of store errors for the whole platform (the consumers, the gRPC status, the doors).
export { isStoreUnavailable } from '../failures.js';

/** True for a unique-index violation: the document is already there. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

/** A bulk write's failure, one per document that failed, with its index in the batch and its code. */
export interface BulkWriteError {
  index: number;
  code?: number;
}

/**
 * The per-document errors of an unordered bulk write (one entry or many, the code where the driver
 * or mongoose put it); undefined when the whole command failed.
 */
export function bulkWriteErrors(err: unknown): BulkWriteError[] | undefined {
  type Raw = { index: number; code?: number; err?: { code?: number } };
  const raw = (err as { writeErrors?: Raw[] | Raw } | undefined)?.writeErrors;
  if (!raw) return undefined;
  return (Array.isArray(raw) ? raw : [raw]).map((e) => ({ index: e.index, code: e.code ?? e.err?.code }));
}

/** The part of a driver command-started event the count needs. */
export interface StoreCommandStarted {
  commandName: string;
  command: Record<string, unknown>;
}

/**
 * Counts one command by name and collection. Reads two fields and never walks the command, so it
 * costs the same for a bulk write of a hundred documents as for a lookup by _id.
 */
export function countStoreCommand(event: StoreCommandStarted): void {
  // find/insert/update/delete/aggregate/findAndModify name the collection under the command's own
  // name; getMore under `collection`; admin commands (ping, endSessions) name none.
  const named = event.command[event.commandName];
  const collection = typeof named === 'string' ? named : typeof event.command.collection === 'string' ? event.command.collection : '';
  storeCommands.inc({ command: event.commandName, collection });
}

/**
 * The service's own database. Connects in the background and keeps retrying, creates every
 * model's indexes once connected, and reports reachability for the health check.
 */
export class MongoStore {
  readonly connection: Connection;
  private connected = false;
  /** Set once every model's indexes exist: until then the unique keys the services rely on are not enforced. */
  private indexesEnsured = false;
  private closing = false;
  private claimSweep: PeriodicWork | undefined;
  private readonly listeners = new Set<(connected: boolean) => void>();
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly url: string,
    private readonly database: string,
    private readonly logger: Logger,
  ) {
    // No buffering: an operation while the store is down fails at once and the caller says UNAVAILABLE.
    this.connection = mongoose.createConnection();
    this.connection.set('bufferCommands', false);
    this.connection.on('disconnected', () => this.setConnected(false));
    // The driver says connected before the indexes are made; ready and SERVING wait for them.
    this.connection.on('reconnected', () => this.indexesEnsured && this.setConnected(true));
    this.connection.on('connected', () => this.indexesEnsured && this.setConnected(true));
    // Forwarded by mongoose from the driver when the connection is opened with monitorCommands.
    this.connection.on('commandStarted', countStoreCommand);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  onChange(listener: (connected: boolean) => void): void {
    this.listeners.add(listener);
  }

  ready(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  start(): void {
    void this.connectLoop();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.claimSweep?.stop();
    await this.connection.close().catch(() => undefined);
  }

  private async connectLoop(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      try {
        await this.connection.openUri(this.url, {
          dbName: this.database,
          // Fail a call fast (UNAVAILABLE) rather than hold it past the caller's deadline.
          serverSelectionTimeoutMS: 2000,
          maxPoolSize: Number(process.env.MONGO_POOL_SIZE ?? 20),
          bufferCommands: false,
          autoIndex: false,
          // Command events feed leadmesh_store_commands_total (countStoreCommand).
          monitorCommands: true,
        });
        for (const model of Object.values(this.connection.models)) await model.createIndexes();
        if ((await detectNonAtomicUpdates(this.connection)) && !this.claimSweep) {
          this.logger.info({ database: this.database }, 'FerretDB: conditional updates are not atomic, writes claim their revision first');
          this.claimSweep = new PeriodicWork('revision claims sweep', () => sweepRevisionClaims(this.connection), { everyMs: 60_000 });
          this.claimSweep.start();
        }
        this.indexesEnsured = true;
        this.logger.info({ database: this.database }, 'store connected, indexes ensured');
        this.setConnected(true);
        return;
      } catch (err) {
        this.setConnected(false);
        this.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'store not reachable, retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    for (const listener of this.listeners) listener(connected);
    if (connected) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/** Registers a model on the service's own connection; its indexes are created when the store connects. */
export function defineModel<T>(store: MongoStore, name: string, schema: Schema<any>, collection: string): Model<T> {
  return store.connection.model(name, schema, collection) as unknown as Model<T>;
}
