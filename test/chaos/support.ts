// Shared set-up for the chaos tests: a whole stack in its own namespace (optionally on private
// NATS and FerretDB servers), the CRM simulator and an SMTP sink in-process, a steady stream of
// leads that keeps going through the faults, and helpers to kill and restart what the test breaks.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { intake } from '@leadmesh/contracts';
import { createClient, topology } from '@leadmesh/platform';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { MongoClient } from 'mongodb';
import { SIMULATOR_DEFAULTS, startCrmSimulator, type CrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { eventually as poll } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { adminConnectOptions } from '../harness/nats.ts';
import { ROOT, SERVICES, grpcAddress, startService, stopService, type RunningService, type Service } from '../harness/stack.ts';
import { FerretNode } from './infra.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

export const SHARED_NATS = 'nats://127.0.0.1:4222';
export const SHARED_MONGO = 'mongodb://127.0.0.1:27017/';

/** Leads per chaos test and their pace; the defaults fit this 2-core machine's end-to-end rate. */
export const LEADS = Number(process.env.CHAOS_LEADS ?? 200);
export const RATE = Number(process.env.CHAOS_RATE ?? 4);
/** How long the pipeline may take to finish every lead after the stream ends, before the audit fails. */
export const SETTLE_MS = Number(process.env.CHAOS_SETTLE_MS ?? 300_000);
/** Each chaos test's bound: start-up, the stream, the faults and the settling, on a busy machine. */
export const TEST_MS = 720_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until probe gives a value; generous deadlines because the machine is shared and slow. */
export const eventually = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 500) => poll(what, probe, timeoutMs, everyMs);

export const databaseName = (namespace: string, service: Service) => `leadmesh_${namespace.replace(/-/g, '_')}_${service.replace(/-/g, '_')}`;

/** Fast versions of crm-sync's patience, so an outage of a minute is waited out, not dead-lettered. */
export const FAST_CRM_ENV: Record<string, string> = {
  CRM_SYNC_MAX_DELIVER: '500',
  // Not shorter: every retry re-reads the lead from the four owning services, and quick retries
  // of many leads at once pile calls onto a service that is already slow to answer.
  CRM_SYNC_BACKOFF_MS: '1000,2000,4000,8000',
  CRM_REQUEST_TIMEOUT_MS: '4000',
  CRM_RETRY_MAX_ATTEMPTS: '3',
  CRM_RETRY_INITIAL_DELAY_MS: '50',
  CRM_RETRY_MAX_DELAY_MS: '300',
  CRM_BREAKER_THRESHOLD: '5',
  CRM_BREAKER_HALF_OPEN_AFTER_MS: '1000',
  CRM_RATE_LIMIT_DEFAULT_PAUSE_MS: '500',
  CRM_RATE_LIMIT_MAX_WAIT_MS: '5000',
};

/** A raw NATS connection for the test itself (no stream management, so it never changes replicas). */
export interface Broker {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function connectBroker(url: string): Promise<Broker> {
  // A busy server (two cores, a stack test running beside it) may not finish the TLS handshake of the
  // first dial in time: keep dialling as a service does, within the calling test's own timeout.
  const nc = await connect({ servers: url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, ...adminConnectOptions() });
  try {
    // No API check here: a new cluster answers JetStream only once it has elected a leader.
    const jsm = await jetstreamManager(nc, { timeout: 10_000, checkAPI: false });
    return { nc, js: jetstream(nc, { timeout: 10_000 }), jsm, close: () => nc.close() };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/** Clears what an earlier run of the same namespace left: its streams and its databases. */
export async function freshNamespace(namespace: string, natsUrl: string, mongoUrl: string): Promise<void> {
  const broker = await connectBroker(natsUrl);
  try {
    const t = topology(namespace);
    for (const stream of [t.pipelineStream, t.deadLetterStream]) await broker.jsm.streams.delete(stream).catch(() => false);
  } finally {
    await broker.close();
  }
  const mongo = await new MongoClient(mongoUrl).connect();
  try {
    for (const service of SERVICES) await mongo.db(databaseName(namespace, service)).dropDatabase();
  } finally {
    await mongo.close();
  }
}

export interface ChaosStackOptions {
  namespace: string;
  portOffset: number;
  natsUrl?: string;
  /** A store the test manages itself; without it the stack gets a FerretDB of its own. */
  mongoUrl?: string;
  crm?: 'salesforce' | 'hubspot';
  env?: Record<string, string>;
  /** More replica sets of the whole stack, each at its own port offset (same namespace). */
  replicaOffsets?: number[];
}

export interface ChaosStack {
  namespace: string;
  natsUrl: string;
  mongoUrl: string;
  crm: 'salesforce' | 'hubspot';
  sim: CrmSimulator;
  smtp: SmtpSink;
  /** Every port offset a replica set of the stack runs at; the first is the primary one. */
  offsets: number[];
  running: Map<string, RunningService>;
  /** SIGKILLs one service of one replica set and starts it again on the same ports. */
  killAndRestart(name: Service, offset?: number, downMs?: number): Promise<void>;
  start(name: Service, offset: number): Promise<void>;
  stopAll(): Promise<void>;
}

const key = (name: Service, offset: number) => `${name}@${offset}`;

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const natsUrl = options.natsUrl ?? SHARED_NATS;
  // A FerretDB of its own: hundreds of leads through five services would otherwise queue behind
  // every other stack on the shared one (and slow those down in turn).
  const storeDir = options.mongoUrl ? undefined : mkdtempSync(join(tmpdir(), `leadmesh-${options.namespace}-`));
  const store = storeDir ? new FerretNode(storeDir, 27017 + options.portOffset) : undefined;
  const dropStore = async () => {
    await store?.kill();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  };
  const mongoUrl = options.mongoUrl ?? store!.url;
  const crm = options.crm ?? 'salesforce';
  let sim: CrmSimulator | undefined;
  let smtp: SmtpSink;
  try {
    await store?.start();
    await freshNamespace(options.namespace, natsUrl, mongoUrl);
    sim = await startCrmSimulator({ port: 0 });
    smtp = await startSmtpSink();
  } catch (err) {
    await sim?.close();
    await dropStore();
    throw err;
  }
  const offsets = [options.portOffset, ...(options.replicaOffsets ?? [])];
  const running = new Map<string, RunningService>();
  const launch = (name: Service, offset: number) =>
    startService(name, {
      namespace: options.namespace,
      portOffset: offset,
      logDir: join(ROOT, '.cache', 'logs', options.namespace, String(offset)),
      env: {
        NATS_URL: natsUrl,
        MONGO_URL: mongoUrl,
        CRM_PROVIDER: crm,
        SALESFORCE_LOGIN_URL: sim.url,
        SALESFORCE_CLIENT_ID: SIMULATOR_DEFAULTS.salesforceClientId,
        SALESFORCE_CLIENT_SECRET: SIMULATOR_DEFAULTS.salesforceClientSecret,
        HUBSPOT_BASE_URL: sim.url,
        HUBSPOT_TOKEN: SIMULATOR_DEFAULTS.hubspotToken,
        SMTP_URL: smtp.url,
        NURTURE_SCHEDULER_INTERVAL_MS: '1000',
        // Fewer events at once per consumer, and patience for peers: FerretDB is the bottleneck here.
        CONSUMER_CONCURRENCY: '8',
        RPC_DEADLINE_MS: '30000',
        NURTURE_LEASE_MS: '5000',
        NURTURE_PUBLIC_URL: `http://127.0.0.1:${8084 + offset}`,
        // The tracing backend is shared and not under test; less export work on a busy machine.
        OTEL_SDK_DISABLED: 'true',
        LOG_LEVEL: 'info',
        ...FAST_CRM_ENV,
        ...options.env,
      },
    });
  const start = async (name: Service, offset: number) => {
    running.set(key(name, offset), launch(name, offset));
    await waitServing(grpcAddress(name, offset), 120_000);
  };
  const stopAll = async () => {
    await Promise.all([...running.values()].map((s) => stopService(s)));
    await sim.close();
    await smtp.close();
    await dropStore();
  };
  try {
    for (const offset of offsets) await Promise.all(SERVICES.map((name) => start(name, offset)));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    namespace: options.namespace,
    natsUrl,
    mongoUrl,
    crm,
    sim,
    smtp,
    offsets,
    running,
    start,
    stopAll,
    async killAndRestart(name, offset = options.portOffset, downMs = 1000) {
      const service = running.get(key(name, offset));
      if (service) await stopService(service, 'SIGKILL');
      await sleep(downMs);
      await start(name, offset);
    },
  };
}

export interface SubmittedLead {
  index: number;
  email: string;
  idempotencyKey: string;
  formId: string;
  leadId: string;
  submissionId: string;
  /** Calls it took (more than one when intake was down or slow). */
  calls: number;
}

const RETRYABLE = new Set([grpcStatus.UNAVAILABLE, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.RESOURCE_EXHAUSTED, grpcStatus.INTERNAL, grpcStatus.UNKNOWN, grpcStatus.CANCELLED]);

/** Two in three leads come through the Contact Sales form (a confirmation email is owed to them). */
export const formOf = (index: number) => (index % 3 === 2 ? 'webinar-signup' : 'contact-sales');

/**
 * Submits leads at a steady pace, each call started on its own clock (not after the previous
 * answer), retrying with the same idempotency key while intake is down, as a careful caller would.
 */
export class LeadStream {
  readonly accepted: SubmittedLead[] = [];
  readonly failures: string[] = [];
  private readonly clients;
  private readonly pending = new Set<Promise<void>>();
  private stopRequested = false;
  private minCount = 0;
  private started = 0;
  private finished?: Promise<SubmittedLead[]>;

  constructor(
    readonly tag: string,
    intakeAddresses: string[],
    private readonly perSecond: number,
    private readonly maxCount = 400,
    /** A caller that sees intake slow down stops piling on: at most this many calls outstanding. */
    private readonly maxInFlight = 8,
  ) {
    this.clients = intakeAddresses.map((a) => createClient(intake.IntakeService, a, { timeoutMs: 30_000 }));
  }

  get submitted(): number {
    return this.started;
  }

  start(): this {
    this.finished = this.loop();
    return this;
  }

  /** Lets the stream end once at least `minCount` leads have been started. */
  async finish(minCount: number): Promise<SubmittedLead[]> {
    this.minCount = minCount;
    this.stopRequested = true;
    return this.finished!;
  }

  private async loop(): Promise<SubmittedLead[]> {
    const t0 = Date.now();
    const interval = 1000 / this.perSecond;
    while (this.started < this.maxCount && !(this.stopRequested && this.started >= this.minCount)) {
      while (this.pending.size >= this.maxInFlight) await Promise.race([...this.pending]);
      const job = this.submit(this.started++).finally(() => this.pending.delete(job));
      this.pending.add(job);
      const next = t0 + this.started * interval;
      await sleep(Math.max(0, next - Date.now()));
    }
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    for (const c of this.clients) c.close();
    return [...this.accepted].sort((a, b) => a.index - b.index);
  }

  private async submit(index: number): Promise<void> {
    const id = randomBytes(4).toString('hex');
    const email = `${this.tag}.${index}.${id}@example-analytics.com`;
    const idempotencyKey = `${this.tag}-${index}-${id}`;
    const formId = formOf(index);
    const request = {
      idempotencyKey,
      contact: { email, firstName: 'Ada', lastName: `Lovelace ${index}`, company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'Germany', companySize: 800 },
      source: { formId, pageUrl: 'https://www.example.com/pricing', utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'chaos' },
      interest: { product: 'analytics', message: 'We need a demo' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    };
    const deadline = Date.now() + 300_000;
    for (let calls = 1; ; calls++) {
      const client = this.clients[(index + calls - 1) % this.clients.length]!;
      try {
        const answer = await client.submitLead(request);
        this.accepted.push({ index, email, idempotencyKey, formId, leadId: answer.leadId, submissionId: answer.submissionId, calls });
        return;
      } catch (err) {
        const code = (err as { code?: number }).code ?? -1;
        if (!RETRYABLE.has(code) || Date.now() > deadline) {
          this.failures.push(`lead ${index}: ${(err as Error).message}`);
          return;
        }
        await sleep(1000 + Math.random() * 1000);
      }
    }
  }
}

/** The value of one Prometheus counter line, summed over the lines matching every label given. */
export async function counterValue(metricsUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
