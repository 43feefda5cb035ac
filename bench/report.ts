// The results: every figure as JSON, and the markdown summary set against the issue's targets.
import type { ChainBaseline, EchoBaseline, StoreChainBaseline } from './baselines.ts';
import type { PipelineMode } from './pipeline.ts';
import { PIPELINE_ENTRY_RPC } from './accounting.ts';
import type { LatencySummary } from './histogram.ts';
import type { Stat } from './spans.ts';

export interface Machine {
  cpus: number;
  model: string;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
  gitCommit: string;
  gitDirty: boolean;
  /** 1, 5 and 15 minute load averages: other work on the machine competes with the bench. */
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  /** The store the run used (BENCH_MONGO_URL, else the local FerretDB). */
  store?: string;
}

export interface Target {
  target: string;
  measured: string;
  met: boolean | null;
}

export interface Results {
  command: string;
  quick: boolean;
  machine: Machine;
  histogram: string;
  durationSeconds: number;
  baselines: { grpcEcho?: EchoBaseline; jetstreamChain?: ChainBaseline; storeChain?: StoreChainBaseline; errors: string[] };
  pipeline: { tracingOn?: PipelineMode; tracingOff?: PipelineMode };
  ratios: {
    submitLeadOverEcho?: number;
    pipelineOverChain?: number;
    /** Pipeline leads/s over the store chain's chains/s: the issue's "at least 50 %". */
    pipelineOverStoreChain?: number;
    /** 1 - ceiling on / ceiling off. */
    tracingCost?: number;
    /** p50 with tracing on / p50 off - 1, at the same fixed rate (`tracingRate`). */
    tracingP50Cost?: number;
    tracingRate?: number;
  };
  targets: Target[];
  plan: unknown;
}

const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${Math.round(v * 1000) / 10}%`);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : undefined);

export function computeRatios(r: Results): Results['ratios'] {
  const on = r.pipeline.tracingOn;
  const off = r.pipeline.tracingOff;
  const tracingRatio = ratio(on?.ceiling?.throughputPerSecond, off?.ceiling?.throughputPerSecond);
  const { rate, on: p50On, off: p50Off } = sameRateP50(r);
  const p50Ratio = ratio(p50On, p50Off);
  return {
    submitLeadOverEcho: ratio(on?.submitLead?.ratePerSecond, r.baselines.grpcEcho?.ratePerSecond),
    pipelineOverChain: ratio(on?.ceiling?.throughputPerSecond, r.baselines.jetstreamChain?.throughputPerSecond),
    pipelineOverStoreChain: ratio(on?.ceiling?.throughputPerSecond, r.baselines.storeChain?.throughputPerSecond),
    tracingCost: tracingRatio === undefined ? undefined : Math.round((1 - tracingRatio) * 1000) / 1000,
    tracingP50Cost: p50Ratio === undefined ? undefined : Math.round((p50Ratio - 1) * 1000) / 1000,
    tracingRate: rate,
  };
}

/** p50 end to end at the rate both modes ran and sustained (tracing on's counted rate first). */
function sameRateP50(r: Results): { rate?: number; on?: number; off?: number } {
  const ran = (m: PipelineMode | undefined, rate: number) => m?.fixedRates.find((f) => f.rate === rate && !f.skipped && f.sustained && f.latency?.count);
  const on = r.pipeline.tracingOn;
  const candidates = [...(on?.countedRate ? [on.countedRate] : []), ...(on?.fixedRates.map((f) => f.rate).sort((a, b) => b - a) ?? [])];
  for (const rate of candidates) {
    const a = ran(on, rate);
    const b = ran(r.pipeline.tracingOff, rate);
    if (a && b) return { rate, on: a.latency!.p50, off: b.latency!.p50 };
  }
  return {};
}

type PerService<T> = Partial<Record<string, T>>;
const worst = <T>(m: PerService<T> | undefined, value: (t: T) => number): [string, number] | undefined =>
  Object.entries(m ?? {})
    .filter((e): e is [string, T] => e[1] !== undefined && Number.isFinite(value(e[1])))
    .map(([k, v]): [string, number] => [k, value(v)])
    .sort(([, a], [, b]) => b - a)[0];

/** The issue's targets (issue 12, "the lean hot path"), measured with tracing on. */
export function computeTargets(r: Results): Target[] {
  const on = r.pipeline.tracingOn;
  const ceiling = on?.ceiling?.throughputPerSecond;
  const storeChain = r.baselines.storeChain?.throughputPerSecond;
  const half = ceiling === undefined ? undefined : Math.round(ceiling / 2);
  const atHalf = on?.fixedRates.find((f) => f.rate === half);
  const cost = on?.cost;
  const grpcInTraces = on?.hops?.grpcClientCallsPerTrace;
  const idle = worst(on?.memoryIdle, (m) => m.rssMb);
  const peak = worst(on?.memoryEnd, (m) => m.peakRssMb);
  const costNote = cost ? ` (${cost.leads} leads at ${on?.countedRate}/s${cost.complete ? '' : `; **only ${cost.completed} synced${cost.drained ? '' : ', consumers not drained'}: not a lead's cost**`})` : '';
  /** A per-lead figure only judges a target when every lead of the phase went through. */
  const judged = (met: boolean) => (cost?.complete ? met : null);
  return [
    {
      target: 'pipeline ceiling >= 50% of the store-chain baseline and >= 150 leads/s',
      measured: ceiling === undefined ? 'not measured' : `${ceiling} leads/s = ${pct(r.ratios.pipelineOverStoreChain)} of the store chain's ${storeChain ?? 'n/a'} chains/s`,
      met: ceiling === undefined || r.ratios.pipelineOverStoreChain === undefined ? null : ceiling >= 150 && r.ratios.pipelineOverStoreChain >= 0.5,
    },
    {
      target: 'p99 SubmitLead -> crm.synced < 250 ms at half the ceiling',
      measured: !atHalf ? 'not measured' : atHalf.skipped ? `not run: ${atHalf.skipped}` : `p99 ${atHalf.latency?.p99} ms at ${atHalf.rate}/s${atHalf.sustained ? '' : ' (rate not sustained)'}`,
      met: !atHalf ? null : atHalf.skipped ? false : !!atHalf.sustained && (atHalf.latency?.p99 ?? Infinity) < 250,
    },
    {
      target: 'store calls per lead, all five services <= 12',
      measured: cost ? `${cost.storeCallsPerLead}${costNote}` : 'not measured',
      met: cost ? judged(cost.storeCallsPerLead <= 12) : null,
    },
    {
      target: 'cross-service gRPC reads on the pipeline path = 0',
      measured: cost
        ? `${cost.crossServiceRpcs} gRPC calls served besides SubmitLead over ${cost.leads} leads${grpcInTraces ? `; ${grpcInTraces.mean} gRPC client spans per trace (${grpcInTraces.n} traces)` : ''}`
        : 'not measured',
      // A call seen is a call made, whether or not every lead went through.
      met: cost ? (cost.crossServiceRpcs > 0 || (grpcInTraces?.max ?? 0) > 0 ? false : judged(true)) : null,
    },
    {
      target: 'service CPU per lead, summed over the five <= 5 ms',
      measured: cost?.cpuMsPerLead === undefined ? 'not measured' : `${cost.cpuMsPerLead} ms${costNote}`,
      met: cost?.cpuMsPerLead === undefined ? null : judged(cost.cpuMsPerLead <= 5),
    },
    {
      target: 'RSS per service <= 110 MB idle',
      measured: idle ? `largest ${idle[0]} ${idle[1]} MB` : 'not measured',
      met: idle ? idle[1] <= 110 : null,
    },
    {
      target: 'RSS per service <= 150 MB at peak',
      measured: peak ? `largest ${peak[0]} ${peak[1]} MB (VmHWM at the end of the run)` : 'not measured',
      met: peak ? peak[1] <= 150 : null,
    },
    {
      target: 'tracing cost: p50 at a fixed rate within 10% of tracing off',
      measured:
        r.ratios.tracingP50Cost === undefined
          ? 'not measured (no rate sustained in both modes)'
          : `${r.ratios.tracingP50Cost >= 0 ? '+' : ''}${pct(r.ratios.tracingP50Cost)} at ${r.ratios.tracingRate}/s (p50 ${sameRateP50(r).on} ms on, ${sameRateP50(r).off} ms off)`,
      met: r.ratios.tracingP50Cost === undefined ? null : r.ratios.tracingP50Cost <= 0.1,
    },
  ];
}

const SERVICE_NAMES = ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] as const;

/** Store calls, CPU, spans and gRPC calls per lead, per service, both modes side by side. */
function perLeadSection(r: Results): string[] {
  const on = r.pipeline.tracingOn;
  const off = r.pipeline.tracingOff;
  const cost = on?.cost;
  if (!cost && !off?.cost) return ['## Per lead, counted', '', 'not measured', ''];
  const out = ['## Per lead, counted', ''];
  const describe = (name: string, m: PipelineMode | undefined) =>
    m?.cost
      ? `${name}: the ${m.countedRate}/s phase, ${m.cost.leads} leads sent (${m.cost.completed} synced) over ${m.cost.seconds} s, idle rates from the ${m.cost.idleSeconds} s just before subtracted${m.cost.drained ? '' : '; **the consumers had not drained when the closing count was taken**'}${m.cost.complete ? '' : '; **not every lead went through, so these are not a lead\'s cost**'}.`
      : `${name}: not counted.`;
  out.push(describe('Tracing on', on), describe('Tracing off', off), '');
  const spans = on?.hops?.spansPerService ?? {};
  out.push(
    row(['service', 'store calls (on)', 'store calls (off)', 'CPU ms (on)', 'CPU ms (off)', 'spans per trace (on)', 'idle: store calls/s, CPU ms/s (on)']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  );
  for (const s of SERVICE_NAMES) {
    const a = cost?.services[s];
    const b = off?.cost?.services[s];
    out.push(row([s, a?.storeCalls, b?.storeCalls, a?.cpuMs, b?.cpuMs, spans[s]?.mean, a ? `${a.idle.storeCallsPerSecond}, ${a.idle.cpuMsPerSecond ?? '?'}` : undefined]));
  }
  out.push(row(['**all five**', `**${cost?.storeCallsPerLead ?? ''}**`, off?.cost?.storeCallsPerLead, `**${cost?.cpuMsPerLead ?? ''}**`, off?.cost?.cpuMsPerLead, on?.hops?.spansPerTrace ? `**${on.hops.spansPerTrace.mean}** (${on.hops.spansPerTrace.min}-${on.hops.spansPerTrace.max})` : undefined, '']), '');
  out.push(
    'Store calls are the commands each service sent, read from its `leadmesh_store_commands_total` (the driver\'s command-started events) before and after the phase. CPU is user + system time of each service process from `/proc/<pid>/stat` (10 ms ticks). Spans per trace: mean over the complete traces sampled from Jaeger for the same phase.',
    '',
  );
  if (cost) {
    out.push('Store calls per lead by command and collection (tracing on, idle rate not subtracted):', '');
    for (const s of SERVICE_NAMES) {
      const by = cost.services[s]?.storeCallsBy ?? {};
      const list = Object.entries(by).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${v}`);
      out.push(`- ${s} (${cost.services[s]?.storeCallsRaw ?? 0}): ${list.length ? list.join(', ') : 'none'}`);
    }
    out.push('');
    const served = SERVICE_NAMES.flatMap((s) => Object.entries(cost.services[s]?.rpcsServed ?? {}).filter(([m]) => m !== PIPELINE_ENTRY_RPC).map(([m, n]) => `${s} ${m} ${n}`));
    const inTraces = Object.entries(on?.hops?.grpcClientCalls ?? {}).map(([k, n]) => `${k} ${n}`);
    out.push(
      `Cross-service gRPC calls during the phase: ${served.length ? served.join(', ') : 'none served'} (from each service's \`leadmesh_rpc_duration_seconds\`); in the sampled traces: ${inTraces.length ? inTraces.join(', ') : 'no gRPC client span'}.`,
      '',
    );
  }
  return out;
}

const mark = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : '**not met**');
const row = (cells: Array<string | number | undefined>) => `| ${cells.map((c) => (c === undefined ? '' : String(c))).join(' | ')} |`;
const statCells = (s: Stat) => [s.n, s.meanMs, s.p50Ms, s.p90Ms];
/** Latency figures, or dashes when no lead or call completed inside the measured window. */
const lat = (l: LatencySummary | undefined) => (l && l.count ? [l.p50, l.p90, l.p99, l.max] : ['-', '-', '-', '-']);

function modeSection(name: string, mode: PipelineMode | undefined): string[] {
  if (!mode) return [`### ${name}`, '', 'not run', ''];
  const out = [`### ${name}`, ''];
  if (mode.error) out.push(`**Failed:** ${mode.error} (service logs in \`${mode.logDir}\`)`, '');
  if (mode.ceiling) {
    out.push(`Highest sustainable rate: **${mode.ceiling.throughputPerSecond} leads/s** synced (closed loop, best at ${mode.ceiling.bestInFlight} leads in flight end to end).`, '');
    out.push(row(['leads in flight', 'synced/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']), row(['---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const s of mode.ceiling.steps) out.push(row([s.inFlight, s.throughputPerSecond, ...lat(s.latency), s.errors + s.lost]));
    out.push('');
  }
  if (mode.fixedRates.length) {
    out.push('Fixed rates (open loop; latency counted from the scheduled send time):', '');
    out.push(row(['offered leads/s', 'synced/s', 'sustained', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'sent', 'not synced']), row(['---:', '---:', ':---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const f of mode.fixedRates) {
      if (f.skipped) out.push(row([f.rate, '', 'skipped', '', '', '', '', '', f.skipped]));
      else out.push(row([f.rate, f.throughputPerSecond, f.sustained ? 'yes' : `no${f.abandoned ? ` (${f.abandoned})` : ''}`, ...lat(f.latency), f.sent, (f.lost ?? 0) + (f.errors ?? 0)]));
    }
    out.push('');
  }
  const flood = (f: NonNullable<PipelineMode['submitLead']>) =>
    `**${f.ratePerSecond} calls/s**, p50 ${lat(f.latency)[0]} ms, p99 ${lat(f.latency)[2]} ms${f.errors ? `, ${f.errors} errors (${f.firstError})` : ''}`;
  if (mode.submitLeadWithPipeline) out.push(`SubmitLead flood (${mode.submitLeadWithPipeline.inFlight} calls in flight) with the pipeline consuming behind it: ${flood(mode.submitLeadWithPipeline)}.`, '');
  if (mode.submitLead) out.push(`SubmitLead flood (${mode.submitLead.inFlight} calls in flight) with intake alone (the other four stopped): ${flood(mode.submitLead)}.`, '');
  return out;
}

export function markdown(r: Results): string {
  const m = r.machine;
  const echo = r.baselines.grpcEcho;
  const chain = r.baselines.jetstreamChain;
  const storeChain = r.baselines.storeChain;
  const on = r.pipeline.tracingOn;
  const off = r.pipeline.tracingOff;
  const out: string[] = [
    '# leadmesh benchmark: latest run',
    '',
    `\`${r.command}\` on ${m.date}, commit \`${m.gitCommit.slice(0, 12)}\`${m.gitDirty ? ' (with uncommitted changes)' : ''}; ${m.cpus} × ${m.model}, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}. Every process of the suite (five services, NATS, FerretDB, Jaeger, Mailpit, the CRM simulator and the load generator) on this one machine. ${r.durationSeconds} s in all. Store: \`${m.store ?? 'mongodb://127.0.0.1:27017/'}\`.${r.quick ? ' **Quick run: short phases and low rates; the figures are indicative only.**' : ''}`,
    '',
    `Load average (1/5/15 min) at the start ${m.loadAverageAtStart.join(' / ')}, at the end ${m.loadAverageAtEnd?.join(' / ') ?? 'n/a'}, on ${m.cpus} cores${(m.loadAverageAtStart[0] ?? 0) > m.cpus ? ': **the machine was already busy with other work when the run started, so absolute figures are low; the ratios to the baselines measured in the same run are the comparable part**' : ''}.`,
    '',
    '## Targets',
    '',
    row(['target', 'measured', 'status']),
    row(['---', '---', '---']),
    ...r.targets.map((t) => row([t.target, t.measured, mark(t.met)])),
    '',
    '## Baselines (the stack\'s own ceilings, same machine, same run)',
    '',
    row(['baseline', 'rate', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']),
    row(['---', '---:', '---:', '---:', '---:', '---:']),
    echo ? row([`bare grpc-js unary echo (SubmitLead messages, ${echo.inFlight} in flight)`, `${echo.ratePerSecond} calls/s`, ...lat(echo.latency)]) : row(['bare grpc-js echo', 'not measured']),
    ...(chain
      ? chain.steps.map((s) => row([`bare JetStream chain, ${chain.hops} stream hops, ${s.inFlight} in flight`, `${s.throughputPerSecond} msgs/s`, ...lat(s.latency)]))
      : [row(['bare JetStream chain', 'not measured'])]),
    ...(storeChain
      ? storeChain.steps.map((s) => row([`bare JetStream chain, ${storeChain.hops} hops each writing one document to FerretDB, ${s.inFlight} in flight`, `${s.throughputPerSecond} chains/s`, ...lat(s.latency)]))
      : [row(['bare JetStream store chain', 'not measured'])]),
    '',
    ...r.baselines.errors.map((e) => `**Baseline failed:** ${e}`),
    '## Ratios',
    '',
    `- intake SubmitLead / bare echo: **${pct(r.ratios.submitLeadOverEcho)}**`,
    `- pipeline throughput / bare JetStream chain: **${pct(r.ratios.pipelineOverChain)}**`,
    `- pipeline leads/s / bare store chain chains/s (five hops, one write each): **${pct(r.ratios.pipelineOverStoreChain)}**`,
    `- tracing cost (1 - throughput on / off): **${pct(r.ratios.tracingCost)}**`,
    `- tracing cost at a fixed rate (p50 on / p50 off - 1${r.ratios.tracingRate ? `, at ${r.ratios.tracingRate}/s` : ''}): **${pct(r.ratios.tracingP50Cost)}**`,
    '',
    '## Pipeline: SubmitLead to crm.synced',
    '',
    ...modeSection('Tracing on', on),
    ...modeSection('Tracing off (OTEL_SDK_DISABLED=true)', off),
    ...perLeadSection(r),
    '## Memory (MB)',
    '',
    row(['service', 'on: idle RSS', 'on: idle RSS after load', 'on: peak after fixed rates', 'on: peak at end', 'off: idle RSS', 'off: peak after fixed rates', 'off: peak at end']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...SERVICE_NAMES.map((s) =>
      row([s, on?.memoryIdle?.[s]?.rssMb, on?.memoryIdleAfterLoad?.[s]?.rssMb, on?.memorySteady?.[s]?.peakRssMb, on?.memoryEnd?.[s]?.peakRssMb, off?.memoryIdle?.[s]?.rssMb, off?.memorySteady?.[s]?.peakRssMb, off?.memoryEnd?.[s]?.peakRssMb]),
    ),
    '',
    '"idle RSS" is VmRSS 2 s after the five report SERVING, before any lead; "after load" is VmRSS in the idle window before the counted phase. "peak" is VmHWM; "end" is after the SubmitLead flood, which leaves a backlog for the consumers.',
    '',
  ];
  const hops = on?.hops;
  if (hops) {
    out.push('## Where the time goes (from the spans)', '', `${hops.completeTraces} complete traces of ${hops.traces} sampled from ${on?.hopsFrom} with tracing on.${hops.error ? ` ${hops.error}.` : ''}`, '');
    if (hops.endToEnd) out.push(`In-trace SubmitLead start to crm.synced published: mean ${hops.endToEnd.meanMs} ms, p50 ${hops.endToEnd.p50Ms} ms, p90 ${hops.endToEnd.p90Ms} ms.`, '');
    const table = (title: string, stats: Record<string, Stat>) => {
      if (!Object.keys(stats).length) return;
      out.push(row([title, 'n', 'mean ms', 'p50 ms', 'p90 ms']), row(['---', '---:', '---:', '---:', '---:']));
      for (const [k, s] of Object.entries(stats)) out.push(row([k, ...statCells(s)]));
      out.push('');
    };
    table('broker hop (publish start to consumer process start)', hops.brokerHops);
    table('span (server / consumer)', hops.processing);
    table('MongoDB (FerretDB) time per lead, summed', hops.storePerLead);
    table('crm-sync outbound call', hops.calls);
  }
  out.push('## How it was measured', '', `Latency histogram: ${r.histogram}. One load generator for everything: closed loop (N calls or leads in flight) or open loop (sends on the clock, latency from the scheduled time). End to end = from calling SubmitLead to the crm.synced event arriving on a core NATS subscription to the bench namespace's subject. The highest sustainable rate steps the leads in flight until throughput stops growing by 5%. Fixed rates above 95% of that are skipped rather than left to build a backlog. Full figures: \`bench/results/latest.json\`.`, '');
  return out.join('\n');
}
