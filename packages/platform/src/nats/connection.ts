import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { awaitStreams, ensureStreams, topology as defaultTopology, type Topology } from './streams.js';

/**
 * Who this client is on the backbone and how it reaches it. A service connects as its own nkey user
 * with its own inbox; the admin user (provisioning, operators' tools, tests) also creates and
 * updates the streams, which a service's user may not.
 */
export interface NatsIdentity {
  /** The user's nkey seed (NATS_NKEY_SEED, or the file NATS_NKEY_SEED_FILE); none on a server without auth. */
  nkeySeed?: string;
  /** CA that signed the server's certificate (NATS_TLS_CA_FILE): TLS is then required. */
  tlsCaFile?: string;
  /** Where replies come back (a service's own, which no other user may subscribe to). */
  inboxPrefix?: string;
  /** Create or update the streams (the admin's job); otherwise wait until they exist. */
  provisionStreams: boolean;
}

/** The identity in the environment: what tests and tools use when they name none (the admin's, locally). */
export function natsIdentityFromEnv(env: NodeJS.ProcessEnv = process.env, provisionStreams = true): NatsIdentity {
  return {
    nkeySeed: env.NATS_NKEY_SEED || (env.NATS_NKEY_SEED_FILE ? readFileSync(env.NATS_NKEY_SEED_FILE, 'utf8').trim() : undefined),
    tlsCaFile: env.NATS_TLS_CA_FILE || undefined,
    provisionStreams,
  };
}

/** The connection options an identity gives (also for tools that connect with the bare client). */
export function natsConnectOptions(identity: Omit<NatsIdentity, 'provisionStreams'>): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  if (identity.nkeySeed) options.authenticator = nkeyAuthenticator(new TextEncoder().encode(identity.nkeySeed));
  if (identity.tlsCaFile) options.tls = { caFile: identity.tlsCaFile };
  if (identity.inboxPrefix) options.inboxPrefix = identity.inboxPrefix;
  return options;
}

/**
 * The service's one connection to NATS. Connects in the background and reconnects forever, so a
 * broker outage makes the service NOT_SERVING instead of crashing it.
 */
export class NatsClient {
  private nc?: NatsConnection;
  private jsClient?: JetStreamClient;
  private jsmClient?: JetStreamManager;
  private connected = false;
  private closing = false;
  private readonly listeners = new Set<(connected: boolean) => void>();
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly logger: Logger,
    /** Defaults to LEADMESH_NAMESPACE; tests name theirs. */
    readonly topology: Topology = defaultTopology(),
    /** Defaults to the environment's credentials, provisioning the streams (tests and tools). */
    private readonly identity: NatsIdentity = natsIdentityFromEnv(),
  ) {}

  /** Starts connecting; resolves at once. `ready()` resolves once streams exist. */
  start(): void {
    void this.connectLoop();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  onChange(listener: (connected: boolean) => void): void {
    this.listeners.add(listener);
  }

  ready(): Promise<void> {
    if (this.jsClient && this.connected) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  get js(): JetStreamClient {
    if (!this.jsClient || !this.connected) throw new UnavailableError('event broker (NATS) is not connected');
    return this.jsClient;
  }

  get jsm(): JetStreamManager {
    if (!this.jsmClient) throw new UnavailableError('event broker (NATS) is not connected');
    return this.jsmClient;
  }

  get connection(): NatsConnection {
    if (!this.nc) throw new UnavailableError('event broker (NATS) is not connected');
    return this.nc;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.nc?.drain().catch(() => undefined);
    this.setConnected(false);
  }

  private async connectLoop(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      try {
        this.nc = await connect({
          servers: this.url.split(','),
          name: this.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          pingInterval: 10_000,
          ...natsConnectOptions(this.identity),
        });
        this.jsmClient = await jetstreamManager(this.nc, { timeout: 5000 });
        await this.streamsReady(this.jsmClient);
        this.jsClient = jetstream(this.nc, { timeout: 5000 });
        this.watch(this.nc);
        this.setConnected(true);
        this.logger.info({ url: this.url }, 'nats connected');
        return;
      } catch (err) {
        await this.nc?.close().catch(() => undefined);
        this.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'nats not reachable, retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /** The admin creates or updates the streams; a service only checks that provisioning made them. */
  private streamsReady(jsm: JetStreamManager): Promise<void> {
    return this.identity.provisionStreams ? ensureStreams(jsm, this.topology) : awaitStreams(jsm, this.topology);
  }

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.logger.warn('nats disconnected');
          this.setConnected(false);
        } else if (status.type === 'reconnect') {
          this.logger.info('nats reconnected');
          // A restarted server without persistence would have lost the streams.
          await this.streamsReady(this.jsm).catch((err: Error) => this.logger.error({ err: err.message }, 'streams not ready'));
          this.setConnected(true);
        }
      }
    })();
    void nc.closed().then(() => {
      this.setConnected(false);
      if (!this.closing) {
        this.logger.error('nats connection closed, reconnecting');
        void this.connectLoop();
      }
    });
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
