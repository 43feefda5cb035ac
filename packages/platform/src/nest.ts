import 'reflect-metadata';
import {
  Global,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type INestApplicationContext,
  type LoggerService,
  type OnApplicationBootstrap,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { loadConfig, type PlatformConfig, type ServiceName } from './config.js';
import { createLogger } from './logger.js';
import { UnavailableError } from './errors.js';
import { Metrics } from './metrics.js';
import { MongoStore } from './mongo/store.js';
import { NatsClient } from './nats/connection.js';
import { EventConsumers } from './nats/consumer.js';
import { ContactKeys, EventSealing } from './nats/contact-keys.js';
import { ParkedEvents } from './nats/parked-events.js';
import { audit, parkedevents } from '@leadmesh/contracts';
import { AuditLog } from './audit/audit-log.js';
import { EventPublisher } from './nats/publisher.js';
import { GrpcServer } from './grpc/server.js';
import { Outbox } from './outbox.js';
import { PeriodicWork } from './periodic-work.js';
import { Readiness } from './readiness.js';
import { Authenticator } from './auth/authenticator.js';
import { Erasures } from './mongo/erasures.js';
import { stopTelemetry } from './telemetry/start.js';

export const CONFIG = Symbol('leadmesh.config');
export const LOGGER = Symbol('leadmesh.logger');

/** Starts the platform once every module has registered its RPCs, consumers and models; stops it in reverse. */
@Injectable()
class PlatformLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private parkedCount?: PeriodicWork;

  constructor(
    @Inject(CONFIG) private readonly config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(MongoStore) private readonly store: MongoStore,
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(Erasures) private readonly erasures: Erasures,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const report = () => this.grpc.setServing(this.nats.isConnected && this.store.isConnected && this.readiness.ready && !this.consumers.isHeld);
    this.nats.onChange(report);
    this.store.onChange(report);
    this.readiness.onChange(report);
    // The consumers often learn first that the store is gone (a failed write comes before the
    // driver's next heartbeat), and they say when it answers again.
    this.consumers.onHeldChange(report);
    report();
    this.serveParkedEvents();
    // Every service's privileged calls, recorded by the gRPC server, read the same way everywhere.
    this.grpc.register(audit.AuditService, {
      listAuditRecords: (request) => this.audit.list(request.pageSize, request.pageToken, request.caller),
    });
    await this.metrics.listen(this.config.grpcHost, this.config.metricsPort);
    await this.grpc.listen(this.config.grpcHost, this.config.grpcPort);
    this.nats.start();
    this.store.start();
    // Consumers wait for the store too: an event must not be taken before its effect can be stored,
    // nor before the erased leads are known.
    void this.store.ready().then(async () => {
      for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
        try {
          await this.erasures.load();
          break;
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'erased leads not loaded yet, retrying');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
      this.consumers.start();
      this.outbox.start();
    });
  }

  /** Every service lists and replays what its own consumers parked, through the same API. */
  private serveParkedEvents(): void {
    const parked = new ParkedEvents(this.nats, this.consumers, this.logger, this.metrics);
    // For the alert on dead letters left waiting (deploy/monitoring), whichever replica parked them.
    this.parkedCount = new PeriodicWork('parked events count', () => parked.reportCounts(), { everyMs: 15_000, logger: this.logger });
    this.parkedCount.start(true);
    this.grpc.register(parkedevents.ParkedEventsService, {
      listParkedEvents: (request) => parked.list(request.pageSize, request.pageToken),
      // protovalidate has already required exactly one target, and `all` to be true.
      replayParkedEvents: (request) => parked.replay(request.target.case === 'sequence' ? { sequence: Number(request.target.value) } : { all: true }),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.logger.info('shutting down: draining consumers and calls');
    this.grpc.setServing(false);
    await this.consumers.stop();
    await this.parkedCount?.stop();
    await this.outbox.stop();
    await this.erasures.stop();
    await this.grpc.close();
    await this.nats.close();
    await this.store.close();
    await this.metrics.close();
    await stopTelemetry();
  }
}

/** Provides the platform kit to one service: config, logs, metrics, store, broker, gRPC server. */
@Global()
@Module({})
export class PlatformModule {
  static forService(service: ServiceName): DynamicModule {
    const config = loadConfig(service);
    const logger = createLogger(service, config.logLevel);
    const metrics = new Metrics(service);
    const nats = new NatsClient(config.natsUrl, service, logger, undefined, config.nats);
    const store = new MongoStore(config.mongoUrl, config.mongoDatabase, logger);
    const contactKeys = new ContactKeys(nats, metrics);
    // Personal fields travel sealed with the contact's key; intake, the one door, issues the keys.
    const sealing = new EventSealing(contactKeys, service === 'intake');
    const publisher = new EventPublisher(nats, sealing);
    const authenticator = new Authenticator();
    const outbox = new Outbox(publisher, nats, metrics, logger);
    const consumers = new EventConsumers(nats, metrics, logger);
    consumers.dependOn({ name: 'store', answers: () => pingStore(store) });
    store.onChange((connected) => !connected && consumers.holdFor('store disconnected'));
    const erasures = new Erasures(store, outbox, service);
    const auditLog = new AuditLog(store, service, logger);
    consumers.skipErasedLeads((leadId) => erasures.isErased(leadId));
    consumers.openSealedEvents(sealing);
    // Every replica drops an erased contact's key within seconds, not only the one that applied contact.erased.
    erasures.onErased((leadId) => contactKeys.forget(leadId));
    const providers = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: Metrics, useValue: metrics },
      { provide: NatsClient, useValue: nats },
      { provide: MongoStore, useValue: store },
      { provide: EventPublisher, useValue: publisher },
      { provide: ContactKeys, useValue: contactKeys },
      { provide: EventConsumers, useValue: consumers },
      { provide: Authenticator, useValue: authenticator },
      { provide: Readiness, useValue: new Readiness() },
      { provide: Erasures, useValue: erasures },
      { provide: AuditLog, useValue: auditLog },
      { provide: GrpcServer, useValue: new GrpcServer(logger, metrics, authenticator, undefined, auditLog) },
      { provide: Outbox, useValue: outbox },
      PlatformLifecycle,
    ];
    return {
      module: PlatformModule,
      providers,
      exports: providers.filter((p) => p !== PlatformLifecycle).map((p) => (p as { provide: unknown }).provide as never),
    };
  }
}

/** A round trip to the service's database, through the driver's server selection (fails within its timeout while down). */
async function pingStore(store: MongoStore): Promise<void> {
  const db = store.connection.db;
  if (!db) throw new UnavailableError('store not connected yet');
  await db.command({ ping: 1 });
}

/** Nest's own log lines, as JSON through the service logger. */
class NestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
}

export interface RunOptions {
  /** Serve HTTP controllers on this port (intake's web-form endpoint). */
  httpPort?: number;
}

/** Boots a service's Nest application and stops it cleanly on SIGTERM/SIGINT. */
export async function runService(service: ServiceName, appModule: Type, options: RunOptions = {}): Promise<INestApplicationContext> {
  const logger = createLogger(service);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  const nestLogger = new NestLogger(logger);
  let app: INestApplicationContext;
  if (options.httpPort !== undefined) {
    const http = await NestFactory.create(appModule, { logger: nestLogger, bodyParser: false });
    http.enableShutdownHooks();
    await http.listen(options.httpPort, process.env.HTTP_HOST ?? '127.0.0.1');
    app = http;
  } else {
    app = await NestFactory.createApplicationContext(appModule, { logger: nestLogger });
    app.enableShutdownHooks();
  }
  logger.info({ service }, 'service started');
  return app;
}
