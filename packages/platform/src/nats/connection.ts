import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { ensureStreams, topology as defaultTopology, type Topology } from './streams.js';

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
        });
        this.jsmClient = await jetstreamManager(this.nc, { timeout: 5000 });
        await ensureStreams(this.jsmClient, this.topology);
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

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.logger.warn('nats disconnected');
          this.setConnected(false);
        } else if (status.type === 'reconnect') {
          this.logger.info('nats reconnected');
          // A restarted server without persistence would have lost the streams.
          await ensureStreams(this.jsm, this.topology).catch((err: Error) => this.logger.error({ err: err.message }, 'ensure streams failed'));
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
