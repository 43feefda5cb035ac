// The stack's own ceilings on this machine, measured in the same run as the pipeline: a bare gRPC
// unary echo, a bare JetStream chain with the pipeline's number of hops, and the same kind of chain
// through five consumers that each write one document to the store.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { MongoClient } from 'mongodb';
import { createClient } from '../packages/platform/dist/index.js';
import { events, intake } from '../packages/contracts/dist/index.js';
import { findCeiling, type Ceiling } from './ceiling.ts';
import { summarize, type HistogramKind, type LatencySummary } from './histogram.ts';
import { contactSalesLead } from './leads.ts';
import { closedLoopCalls, CompletionTracker, type CallRun, type E2ERun } from './load.ts';
import { MONGO_URL, memoryOf, onCleanup, startChild, stopChild, type Memory } from './processes.ts';

export const ECHO_ADDRESS = '127.0.0.1:50650';
const CHAIN_STREAM = 'BENCH_CHAIN';
const CHAIN_SUBJECTS = ['benchchain.received', 'benchchain.scored', 'benchchain.routed', 'benchchain.synced'] as const;
const STORE_CHAIN_STREAM = 'BENCH_STORE_CHAIN';
// A hop per service, named after the service that consumes the subject.
const STORE_CHAIN_SUBJECTS = ['benchstore.intake', 'benchstore.scoring', 'benchstore.routing', 'benchstore.nurture', 'benchstore.crmsync', 'benchstore.done'] as const;

export interface CallFigures {
  inFlight: number;
  ratePerSecond: number;
  calls: number;
  errors: number;
  firstError?: string;
  latency: LatencySummary;
}

export interface EchoBaseline extends CallFigures {
  memory?: Memory;
}

export async function echoBaseline(run: CallRun, kind: HistogramKind, runId: string): Promise<EchoBaseline> {
  const server = await startChild('echo-server.ts', [ECHO_ADDRESS]);
  const client = createClient(intake.IntakeService, ECHO_ADDRESS, { timeoutMs: 10_000 });
  try {
    const r = await closedLoopCalls(run, kind, (i) => client.submitLead(contactSalesLead(runId, i)));
    return { inFlight: run.inFlight, ratePerSecond: Math.round(r.ratePerSecond), calls: r.calls, errors: r.errors, firstError: r.firstError, latency: summarize(r.latency), memory: memoryOf(server.pid) };
  } finally {
    client.close();
    await stopChild(server);
  }
}

export interface ChainBaseline extends Ceiling {
  hops: number;
  workerMemory: Array<Memory | undefined>;
}

export interface StoreChainBaseline extends ChainBaseline {
  /** Documents written per chain: one per hop. */
  writesPerChain: number;
}

interface ChainShape {
  stream: string;
  subjects: readonly string[];
  /** One database per hop on this store, as each service has its own; none for the broker-only chain. */
  store?: { url: string; databasePrefix: string };
}

const CHAIN: ChainShape = { stream: CHAIN_STREAM, subjects: CHAIN_SUBJECTS };
const STORE_CHAIN: ChainShape = { stream: STORE_CHAIN_STREAM, subjects: STORE_CHAIN_SUBJECTS, store: { url: MONGO_URL, databasePrefix: 'leadmesh_benchstore_' } };

async function resetChainStream(jsm: JetStreamManager, shape: ChainShape): Promise<void> {
  await jsm.streams.delete(shape.stream).catch(() => undefined);
  // The pipeline stream's settings, so the broker does the same work per message.
  await jsm.streams.add({
    name: shape.stream,
    subjects: [`${shape.subjects[0]!.split('.')[0]}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(120_000),
    max_age: nanos(3600 * 1000),
    discard: DiscardPolicy.Old,
    num_replicas: 1,
  });
}

async function dropChainDatabases(store: NonNullable<ChainShape['store']>): Promise<void> {
  const mongo = new MongoClient(store.url, { serverSelectionTimeoutMS: 5000 });
  try {
    const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) if (name.startsWith(store.databasePrefix)) await mongo.db(name).dropDatabase();
  } finally {
    await mongo.close();
  }
}

async function runChain(shape: ChainShape, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, windows: number[], run: E2ERun, kind: HistogramKind, log: (line: string) => void): Promise<ChainBaseline> {
  await resetChainStream(jsm, shape);
  onCleanup(async () => void (await jsm.streams.delete(shape.stream).catch(() => undefined)));
  if (shape.store) {
    await dropChainDatabases(shape.store);
    onCleanup(() => dropChainDatabases(shape.store!));
  }
  const workers = [];
  for (let hop = 0; hop < shape.subjects.length - 1; hop++) {
    const from = shape.subjects[hop]!;
    const storeArgs = shape.store ? [shape.store.url, `${shape.store.databasePrefix}${from.split('.')[1]}`] : [];
    workers.push(await startChild('chain-worker.ts', [shape.stream, from, shape.subjects[hop + 1]!, ...storeArgs]));
  }
  const tracker = new CompletionTracker();
  const sub = nc.subscribe(shape.subjects[shape.subjects.length - 1]!, {
    callback: (err, msg) => {
      if (!err) tracker.complete(fromBinary(events.CrmSyncedSchema, msg.data).leadId);
    },
  });
  try {
    // One sequence across steps: a step's stragglers must not complete the next step's messages.
    let seq = 0;
    const submit = async () => {
      const leadId = `chain-${seq++}`;
      const eventId = `${leadId}:${shape.subjects[0]}`;
      await js.publish(shape.subjects[0]!, toBinary(events.CrmSyncedSchema, create(events.CrmSyncedSchema, { eventId, leadId })), { msgID: eventId });
      return leadId;
    };
    const ceiling = await findCeiling(windows, run, kind, tracker, submit, log);
    return { ...ceiling, hops: workers.length, workerMemory: workers.map((w) => memoryOf(w.pid)) };
  } finally {
    sub.unsubscribe();
    for (const w of workers) await stopChild(w);
    await jsm.streams.delete(shape.stream).catch(() => undefined);
    if (shape.store) await dropChainDatabases(shape.store).catch(() => undefined);
  }
}

/** The pipeline's four stream hops through three bare consumers: the broker's own ceiling. */
export async function chainBaseline(nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, windows: number[], run: E2ERun, kind: HistogramKind, log: (line: string) => void): Promise<ChainBaseline> {
  const chain = await runChain(CHAIN, nc, js, jsm, windows, run, kind, log);
  // Counted as stream hops (subjects a message crosses), as this baseline always has been.
  return { ...chain, hops: CHAIN_SUBJECTS.length };
}

/**
 * The floor of any five-service design on this store: five bare consumers in a row, each writing
 * one document to the same FerretDB before it republishes. Its ceiling, in chains/s, is what the
 * pipeline's leads/s is held against.
 */
export async function storeChainBaseline(nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, windows: number[], run: E2ERun, kind: HistogramKind, log: (line: string) => void): Promise<StoreChainBaseline> {
  const chain = await runChain(STORE_CHAIN, nc, js, jsm, windows, run, kind, log);
  return { ...chain, writesPerChain: chain.hops };
}
