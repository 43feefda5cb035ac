// `bash scripts/bench.sh [--quick]`: the baselines and the pipeline under load in one run on this
// machine, then bench/results/latest.{json,md,png}. Everything it starts is stopped, also on Ctrl-C.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startCrmSimulator } from '../test/fixtures/crm-simulator/index.ts';
import { ROOT } from '../test/harness/stack.ts';
import { adminConnectOptions } from '../test/harness/nats.ts';
import { chainBaseline, echoBaseline, storeChainBaseline } from './baselines.ts';
import { chartSpec, renderPng } from './chart.ts';
import { histogramKind } from './histogram.ts';
import { CRM_SIMULATOR_PORT, pipelineMode, type PipelinePlan } from './pipeline.ts';
import { cleanupAll, MONGO_URL, onCleanup } from './processes.ts';
import { computeRatios, computeTargets, markdown, type Machine, type Results } from './report.ts';
import type { CallRun, E2ERun } from './load.ts';

const quick = process.argv.includes('--quick');
const s = (seconds: number) => seconds * 1000;

// Sized for about 3 minutes (--quick) and under 10 minutes (default) on 2 cores.
const plan = quick
  ? {
      echo: { inFlight: 32, durationMs: s(5), warmupMs: s(1) } satisfies CallRun,
      chainWindows: [16, 64],
      chainRun: { durationMs: s(5), warmupMs: s(1), drainMs: s(10) } satisfies E2ERun,
      storeChainWindows: [16, 64],
      pipeline: {
        warmupMs: s(3),
        ceilingWindows: [8, 32],
        ceilingRun: { durationMs: s(8), warmupMs: s(2), drainMs: s(15) },
        fixedRates: [10, 25],
        rateRun: { durationMs: s(8), warmupMs: s(1), drainMs: s(15) },
        submitRun: { inFlight: 32, durationMs: s(4), warmupMs: s(1) },
        jaegerTraces: 50,
        idleMs: s(3),
      } satisfies PipelinePlan,
    }
  : {
      echo: { inFlight: 32, durationMs: s(10), warmupMs: s(2) } satisfies CallRun,
      chainWindows: [16, 64, 256],
      chainRun: { durationMs: s(10), warmupMs: s(2), drainMs: s(15) } satisfies E2ERun,
      storeChainWindows: [16, 64, 256],
      pipeline: {
        warmupMs: s(5),
        ceilingWindows: [8, 32, 96, 256],
        ceilingRun: { durationMs: s(15), warmupMs: s(3), drainMs: s(20) },
        fixedRates: [50, 100, 250],
        rateRun: { durationMs: s(20), warmupMs: s(2), drainMs: s(20) },
        submitRun: { inFlight: 32, durationMs: s(8), warmupMs: s(2) },
        jaegerTraces: 100,
        idleMs: s(5),
      } satisfies PipelinePlan,
    };

const log = (line: string) => console.error(line);
const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

const loadAverage = () => loadavg().map((l) => Math.round(l * 100) / 100);

function machine(): Machine {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.versions.node,
    platform: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    gitCommit: git('rev-parse', 'HEAD'),
    gitDirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    loadAverageAtStart: loadAverage(),
    store: MONGO_URL,
  };
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`\n${signal}: stopping everything the bench started...`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const kind = histogramKind();
  const results: Results = {
    command: `bash scripts/bench.sh${quick ? ' --quick' : ''}`,
    quick,
    machine: machine(),
    histogram: kind.name,
    durationSeconds: 0,
    baselines: { errors: [] },
    pipeline: {},
    ratios: {},
    targets: [],
    plan,
  };

  const nc = await connect({ servers: '127.0.0.1:4222', name: 'bench', ...adminConnectOptions() });
  onCleanup(() => nc.close());
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);

  log('baseline 1: bare grpc-js unary echo');
  try {
    results.baselines.grpcEcho = await echoBaseline(plan.echo, kind, runId);
    log(`  ${results.baselines.grpcEcho.ratePerSecond} calls/s, p50 ${results.baselines.grpcEcho.latency.p50} ms, p99 ${results.baselines.grpcEcho.latency.p99} ms`);
  } catch (err) {
    results.baselines.errors.push(`grpc echo: ${(err as Error).message}`);
  }
  log('baseline 2: bare JetStream chain, 4 stream hops');
  try {
    results.baselines.jetstreamChain = await chainBaseline(nc, js, jsm, plan.chainWindows, plan.chainRun, kind, log);
  } catch (err) {
    results.baselines.errors.push(`JetStream chain: ${(err as Error).message}`);
  }
  log('baseline 3: bare JetStream chain, 5 hops each writing one document to FerretDB');
  try {
    results.baselines.storeChain = await storeChainBaseline(nc, js, jsm, plan.storeChainWindows, plan.chainRun, kind, log);
  } catch (err) {
    results.baselines.errors.push(`store chain: ${(err as Error).message}`);
  }

  const simulator = await startCrmSimulator({ port: CRM_SIMULATOR_PORT, host: '127.0.0.1', salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  onCleanup(() => simulator.close());
  for (const tracing of [true, false]) {
    log(`pipeline, tracing ${tracing ? 'on' : 'off'}`);
    simulator.reset();
    // Tracing off is measured at tracing on's half-ceiling rate too: the cost of tracing is the p50 there.
    const comparisonRate = tracing ? undefined : results.pipeline.tracingOn?.countedRate;
    const mode = await pipelineMode(tracing, plan.pipeline, kind, nc, jsm, runId, log, comparisonRate);
    if (tracing) results.pipeline.tracingOn = mode;
    else results.pipeline.tracingOff = mode;
  }

  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAverageAtEnd = loadAverage();
  results.ratios = computeRatios(results);
  results.targets = computeTargets(results);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const spec = chartSpec([results.pipeline.tracingOn, results.pipeline.tracingOff].filter((m) => m !== undefined));
  const chart = await renderPng(spec).catch((err: Error) => ({ png: undefined, why: `rendering failed: ${err.message}` }));
  let md = markdown(results);
  if (chart.png) {
    writeFileSync(join(dir, 'latest.png'), chart.png);
    rmSync(join(dir, 'latest.vl.json'), { force: true });
    md += '\n![latency over time and distribution](latest.png)\n';
  } else {
    writeFileSync(join(dir, 'latest.vl.json'), `${JSON.stringify(spec, null, 2)}\n`);
    md += `\nNo picture this run: ${chart.why}. The Vega-Lite spec is in \`bench/results/latest.vl.json\`.\n`;
  }
  writeFileSync(join(dir, 'latest.md'), md);
  console.log(md);
}

try {
  await main();
} catch (err) {
  log(`bench failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
// Timers of abandoned leads must not keep the process alive.
process.exit(process.exitCode ?? 0);
