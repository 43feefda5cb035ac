// The pipeline under load: the five services started as in production (test/harness/stack.ts) in
// the bench's own namespace, SubmitLead over gRPC in, crm.synced out, with tracing on or off.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { MongoClient } from 'mongodb';
import { createClient, topology } from '../packages/platform/dist/index.js';
import { events, intake, SUBJECTS } from '../packages/contracts/dist/index.js';
import { waitServing } from '../test/harness/health.ts';
import { grpcAddress, GRPC_PORTS, HTTP_PORTS, METRICS_PORTS, ROOT, SERVICES, startStack, stopService, stopStack, type RunningService, type Service } from '../test/harness/stack.ts';
import type { CallFigures } from './baselines.ts';
import { findCeiling, type Ceiling } from './ceiling.ts';
import { CURVE_PERCENTILES, summarize, type HistogramKind, type LatencySummary } from './histogram.ts';
import { contactSalesLead } from './leads.ts';
import { closedLoopCalls, closedLoopE2E, CompletionTracker, openLoopE2E, type CallRun, type E2ERun, type E2ESample } from './load.ts';
import { MONGO_URL, memoryOf, onCleanup, type Memory } from './processes.ts';
import { hopReport, type HopReport } from './spans.ts';
import { measureLeadCost, type LeadCost } from './accounting.ts';

export const NAMESPACE = 'bench';
export const PORT_OFFSET = 600;
export const CRM_SIMULATOR_PORT = 8090 + PORT_OFFSET;

export interface PipelinePlan {
  warmupMs: number;
  ceilingWindows: number[];
  ceilingRun: E2ERun;
  fixedRates: number[];
  rateRun: E2ERun;
  submitRun: CallRun;
  jaegerTraces: number;
  /** The idle window before the counted phase, whose rates are subtracted from its counts. */
  idleMs: number;
}

export interface SecondBucket {
  second: number;
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface FixedRate {
  rate: number;
  /** Why it was not run, when it was above what the pipeline had just shown it can take. */
  skipped?: string;
  /** The pipeline kept up: completions matched the offered rate and nothing was left behind. */
  sustained?: boolean;
  abandoned?: string;
  offeredPerSecond?: number;
  throughputPerSecond?: number;
  sent?: number;
  completed?: number;
  lost?: number;
  errors?: number;
  firstError?: string;
  latency?: LatencySummary;
  curve?: Array<{ percentile: number; ms: number }>;
  overTime?: SecondBucket[];
}

export interface PipelineMode {
  tracing: boolean;
  startupMs?: number;
  ceiling?: Ceiling;
  fixedRates: FixedRate[];
  /** SubmitLead flooded with only intake running. */
  submitLead?: CallFigures;
  /** The same flood with the whole pipeline consuming behind intake, on the same two cores. */
  submitLeadWithPipeline?: CallFigures;
  /** RSS once SERVING, before any lead; and again in the idle window before the counted phase. */
  memoryIdle?: Partial<Record<Service, Memory>>;
  memoryIdleAfterLoad?: Partial<Record<Service, Memory>>;
  /** VmHWM after the fixed-rate phases, and at the end after the SubmitLead flood. */
  memorySteady?: Partial<Record<Service, Memory>>;
  memoryEnd?: Partial<Record<Service, Memory>>;
  hops?: HopReport;
  /** Which phase the span sample comes from. */
  hopsFrom?: string;
  /** Store calls, CPU and gRPC calls per lead, counted over one fixed-rate phase: this rate's. */
  cost?: LeadCost;
  countedRate?: number;
  error?: string;
  logDir: string;
}

function perSecond(samples: E2ESample[]): SecondBucket[] {
  const buckets = new Map<number, number[]>();
  for (const s of samples) {
    const second = Math.floor(s.at / 1000);
    const list = buckets.get(second) ?? [];
    list.push(s.ms);
    buckets.set(second, list);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([second, list]) => {
      list.sort((a, b) => a - b);
      const at = (p: number) => list[Math.min(list.length - 1, Math.ceil((p / 100) * list.length) - 1)]!;
      return { second, count: list.length, p50: at(50), p99: at(99), max: list[list.length - 1]! };
    });
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A fresh namespace per mode: no stream backlog, no documents left from a previous run. */
async function resetNamespace(jsm: JetStreamManager): Promise<void> {
  const t = topology(NAMESPACE);
  for (const stream of [t.pipelineStream, t.deadLetterStream]) await jsm.streams.delete(stream).catch(() => undefined);
  const mongo = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
  try {
    const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) if (name.startsWith(`leadmesh_${NAMESPACE}_`)) await mongo.db(name).dropDatabase();
  } finally {
    await mongo.close();
  }
}

const memoryOfStack = (services: RunningService[]) => Object.fromEntries(services.map((s) => [s.name, memoryOf(s.process.pid)])) as Partial<Record<Service, Memory>>;

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/**
 * One mode of the pipeline (tracing on or off). `comparisonRate`, when given, is run as well and is
 * the phase whose cost per lead is counted, so both modes are compared at the same rate; otherwise
 * that phase is the one at half the ceiling.
 */
export async function pipelineMode(tracing: boolean, plan: PipelinePlan, kind: HistogramKind, nc: NatsConnection, jsm: JetStreamManager, runId: string, log: (line: string) => void, comparisonRate?: number): Promise<PipelineMode> {
  const logDir = join(ROOT, '.cache', 'bench-logs', tracing ? 'tracing-on' : 'tracing-off');
  const mode: PipelineMode = { tracing, fixedRates: [], logDir };
  const ports = [...SERVICES.map((s) => GRPC_PORTS[s]), ...SERVICES.map((s) => METRICS_PORTS[s]), ...Object.values(HTTP_PORTS)].map((p) => p + PORT_OFFSET);
  for (const port of ports) if (await portInUse(port)) throw new Error(`port ${port} is taken: is another bench running? (the bench uses port offset ${PORT_OFFSET})`);
  await resetNamespace(jsm);

  const started = Date.now();
  const services = startStack({
    namespace: NAMESPACE,
    portOffset: PORT_OFFSET,
    logDir,
    env: {
      SALESFORCE_LOGIN_URL: `http://127.0.0.1:${CRM_SIMULATOR_PORT}`,
      HUBSPOT_BASE_URL: `http://127.0.0.1:${CRM_SIMULATOR_PORT}`,
      OTEL_SDK_DISABLED: tracing ? 'false' : 'true',
      MONGO_URL,
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopStack(services);
  };
  onCleanup(stop);
  const client = createClient(intake.IntakeService, grpcAddress('intake', PORT_OFFSET), { timeoutMs: 10_000 });
  const tracker = new CompletionTracker();
  const sub = nc.subscribe(topology(NAMESPACE).subject(SUBJECTS.crmSynced), {
    callback: (err, msg) => {
      if (!err) tracker.complete(fromBinary(events.CrmSyncedSchema, msg.data).leadId);
    },
  });
  // One sequence for the whole mode: every lead is a new contact, and a straggler never matches a later phase's lead.
  let seq = 0;
  const prefix = `${runId}${tracing ? 't' : 'n'}`;
  const submit = async () => (await client.submitLead(contactSalesLead(prefix, seq++))).leadId;
  try {
    try {
      await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, PORT_OFFSET), 90_000)));
    } catch (err) {
      const exited = services.filter((s) => s.process.exitCode !== null).map((s) => `${s.name} exited (${s.process.exitCode}): ${tail(s.logFile)}`);
      throw new Error(`${(err as Error).message}${exited.length ? `; ${exited.join('; ')}` : ''}`);
    }
    mode.startupMs = Date.now() - started;
    // Idle: started and connected, no lead yet.
    await new Promise((r) => setTimeout(r, 2000));
    mode.memoryIdle = memoryOfStack(services);
    log(`  five services SERVING after ${mode.startupMs} ms, idle RSS ${Object.values(mode.memoryIdle).map((m) => m?.rssMb).join(' / ')} MB; warming up`);
    await closedLoopE2E(8, { warmupMs: 0, durationMs: plan.warmupMs, drainMs: 10_000 }, kind, tracker, submit);

    log('  highest sustainable rate (closed loop, end to end):');
    const ceilingFrom = Date.now();
    mode.ceiling = await findCeiling(plan.ceilingWindows, plan.ceilingRun, kind, tracker, submit, log);
    const ceiling = mode.ceiling.throughputPerSecond;

    // Half the ceiling shows latency with headroom, whatever this machine manages.
    const half = Math.round(ceiling / 2);
    const rates = [...new Set([...plan.fixedRates, ...(half >= 2 ? [half] : []), ...(comparisonRate ? [comparisonRate] : [])])].sort((a, b) => a - b);
    const runnable = rates.filter((rate) => rate <= ceiling * 0.95);
    const countedRate = comparisonRate && runnable.includes(comparisonRate) ? comparisonRate : runnable.includes(half) ? half : runnable[0];
    mode.countedRate = countedRate;
    // The spans of the half-ceiling phase, or of the ceiling search when no fixed rate could run.
    let hopsWindow: { phase: string; from: number; to: number } = { phase: 'the ceiling search', from: ceilingFrom, to: Date.now() };
    let fixedRun = false;
    for (const rate of rates) {
      if (rate > ceiling * 0.95) {
        mode.fixedRates.push({ rate, skipped: `above the ${ceiling}/s the pipeline sustained closed loop` });
        log(`  ${rate}/s: skipped (above the measured ${ceiling}/s)`);
        continue;
      }
      tracker.forget();
      const phase = () => openLoopE2E(rate, { ...plan.rateRun, maxBacklog: Math.max(200, rate * 3) }, kind, tracker, submit);
      let from = Date.now();
      let r: Awaited<ReturnType<typeof phase>>;
      if (rate === countedRate) {
        const counted = await measureLeadCost({
          services,
          portOffset: PORT_OFFSET,
          jsm,
          stream: topology(NAMESPACE).pipelineStream,
          phase: `the ${rate}/s phase`,
          idleMs: plan.idleMs,
          onIdle: () => {
            mode.memoryIdleAfterLoad = memoryOfStack(services);
            from = Date.now();
          },
          run: phase,
        });
        r = counted.result;
        mode.cost = counted.cost;
        const c = counted.cost;
        log(`  counted over the ${rate}/s phase (${c.completed} of ${c.leads} leads synced${c.drained ? '' : ', consumers not drained'}): ${c.storeCallsPerLead} store calls, ${c.cpuMsPerLead ?? '?'} ms CPU per lead (${SERVICES.map((s) => `${s} ${c.services[s]?.storeCalls}/${c.services[s]?.cpuMs}`).join(', ')}); ${c.crossServiceRpcs} cross-service gRPC calls`);
      } else {
        r = await phase();
      }
      const to = Date.now();
      const sustained = !r.abandoned && r.lost === 0 && r.submitErrors === 0 && r.throughputPerSecond >= r.offeredPerSecond * 0.9;
      mode.fixedRates.push({
        rate,
        sustained,
        abandoned: r.abandoned,
        offeredPerSecond: Math.round(r.offeredPerSecond * 10) / 10,
        throughputPerSecond: Math.round(r.throughputPerSecond * 10) / 10,
        sent: r.sent,
        completed: r.completed,
        lost: r.lost,
        errors: r.submitErrors,
        firstError: r.firstError,
        latency: summarize(r.latency),
        curve: CURVE_PERCENTILES.map((p) => ({ percentile: p, ms: Math.round(r.latency.percentile(p) * 100) / 100 })),
        overTime: perSecond(r.samples),
      });
      const l = summarize(r.latency);
      log(`  ${rate}/s: ${sustained ? 'sustained' : 'NOT sustained'}, ${Math.round(r.throughputPerSecond)}/s synced, p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms${r.abandoned ? ` (${r.abandoned})` : ''}${r.lost ? `, ${r.lost} not synced in time` : ''}`);
      // The spans come from the phase whose costs were counted.
      if (rate === countedRate || !fixedRun) hopsWindow = { phase: `the ${rate}/s phase`, from, to };
      fixedRun = true;
    }
    mode.memorySteady = memoryOfStack(services);
    if (tracing) {
      await new Promise((r) => setTimeout(r, 3000));
      mode.hops = await hopReport(NAMESPACE, hopsWindow.from, hopsWindow.to, plan.jaegerTraces);
      mode.hopsFrom = hopsWindow.phase;
      log(`  spans: ${mode.hops.completeTraces}/${mode.hops.traces} complete traces from ${hopsWindow.phase}${mode.hops.error ? ` (${mode.hops.error})` : ''}`);
    }

    const submitFlood = async (what: string): Promise<CallFigures> => {
      const s = await closedLoopCalls(plan.submitRun, kind, () => client.submitLead(contactSalesLead(prefix, seq++)));
      const figures = { inFlight: plan.submitRun.inFlight, ratePerSecond: Math.round(s.ratePerSecond), calls: s.calls, errors: s.errors, firstError: s.firstError, latency: summarize(s.latency) };
      log(`  SubmitLead ${what}, ${figures.inFlight} in flight: ${figures.ratePerSecond} calls/s, p50 ${figures.latency.p50} ms, p99 ${figures.latency.p99} ms${s.errors ? `, ${s.errors} errors (${s.firstError})` : ''}`);
      return figures;
    };
    mode.submitLeadWithPipeline = await submitFlood('with the pipeline consuming behind it');
    mode.memoryEnd = memoryOfStack(services);
    // Intake's own rate: the other four stopped (their events wait in JetStream), so intake has the
    // machine the way the echo baseline had it.
    await Promise.all(services.filter((s) => s.name !== 'intake').map((s) => stopService(s)));
    mode.submitLead = await submitFlood('alone');
  } catch (err) {
    mode.error = (err as Error).message;
    log(`  FAILED: ${mode.error}`);
  } finally {
    sub.unsubscribe();
    client.close();
    tracker.forget();
    await stop();
  }
  return mode;
}
