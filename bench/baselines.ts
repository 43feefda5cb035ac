// The stack's own ceilings on this machine, measured in the same run as the pipeline: a bare gRPC
// unary echo, and a bare JetStream chain with the pipeline's number of hops.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { createClient } from '../packages/platform/dist/index.js';
import { events, intake } from '../packages/contracts/dist/index.js';
import { findCeiling, type Ceiling } from './ceiling.ts';
import { summarize, type HistogramKind, type LatencySummary } from './histogram.ts';
import { contactSalesLead } from './leads.ts';
import { closedLoopCalls, CompletionTracker, type CallRun, type E2ERun } from './load.ts';
import { memoryOf, onCleanup, startChild, stopChild, type Memory } from './processes.ts';

export const ECHO_ADDRESS = '127.0.0.1:50650';
const CHAIN_STREAM = 'BENCH_CHAIN';
const CHAIN_SUBJECTS = ['benchchain.received', 'benchchain.scored', 'benchchain.routed', 'benchchain.synced'] as const;

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

async function resetChainStream(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.delete(CHAIN_STREAM).catch(() => undefined);
  // The pipeline stream's settings, so the broker does the same work per message.
  await jsm.streams.add({
    name: CHAIN_STREAM,
    subjects: ['benchchain.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(120_000),
    max_age: nanos(3600 * 1000),
    discard: DiscardPolicy.Old,
    num_replicas: 1,
  });
}

export async function chainBaseline(nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, windows: number[], run: E2ERun, kind: HistogramKind, log: (line: string) => void): Promise<ChainBaseline> {
  await resetChainStream(jsm);
  onCleanup(async () => void (await jsm.streams.delete(CHAIN_STREAM).catch(() => undefined)));
  const workers = [];
  for (let hop = 0; hop < CHAIN_SUBJECTS.length - 1; hop++) workers.push(await startChild('chain-worker.ts', [CHAIN_STREAM, CHAIN_SUBJECTS[hop]!, CHAIN_SUBJECTS[hop + 1]!]));
  const tracker = new CompletionTracker();
  const sub = nc.subscribe(CHAIN_SUBJECTS[CHAIN_SUBJECTS.length - 1]!, {
    callback: (err, msg) => {
      if (!err) tracker.complete(fromBinary(events.CrmSyncedSchema, msg.data).leadId);
    },
  });
  try {
    // One sequence across steps: a step's stragglers must not complete the next step's messages.
    let seq = 0;
    const submit = async () => {
      const leadId = `chain-${seq++}`;
      const eventId = `${leadId}:received`;
      await js.publish(CHAIN_SUBJECTS[0], toBinary(events.CrmSyncedSchema, create(events.CrmSyncedSchema, { eventId, leadId })), { msgID: eventId });
      return leadId;
    };
    const ceiling = await findCeiling(windows, run, kind, tracker, submit, log);
    return { ...ceiling, hops: CHAIN_SUBJECTS.length, workerMemory: workers.map((w) => memoryOf(w.pid)) };
  } finally {
    sub.unsubscribe();
    for (const w of workers) await stopChild(w);
    await jsm.streams.delete(CHAIN_STREAM).catch(() => undefined);
  }
}
