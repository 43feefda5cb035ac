// The results: every figure as JSON, and the markdown summary set against the issue's targets.
import type { ChainBaseline, EchoBaseline } from './baselines.ts';
import type { PipelineMode } from './pipeline.ts';
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
  baselines: { grpcEcho?: EchoBaseline; jetstreamChain?: ChainBaseline; errors: string[] };
  pipeline: { tracingOn?: PipelineMode; tracingOff?: PipelineMode };
  ratios: { submitLeadOverEcho?: number; pipelineOverChain?: number; tracingCost?: number };
  targets: Target[];
  plan: unknown;
}

const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${Math.round(v * 1000) / 10}%`);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : undefined);

export function computeRatios(r: Results): Results['ratios'] {
  const on = r.pipeline.tracingOn;
  const off = r.pipeline.tracingOff;
  const tracingRatio = ratio(on?.ceiling?.throughputPerSecond, off?.ceiling?.throughputPerSecond);
  return {
    submitLeadOverEcho: ratio(on?.submitLead?.ratePerSecond, r.baselines.grpcEcho?.ratePerSecond),
    pipelineOverChain: ratio(on?.ceiling?.throughputPerSecond, r.baselines.jetstreamChain?.throughputPerSecond),
    tracingCost: tracingRatio === undefined ? undefined : Math.round((1 - tracingRatio) * 1000) / 1000,
  };
}

export function computeTargets(r: Results): Target[] {
  const on = r.pipeline.tracingOn;
  const ceiling = on?.ceiling?.throughputPerSecond;
  const at250 = on?.fixedRates.find((f) => f.rate === 250);
  const memories = [r.pipeline.tracingOn, r.pipeline.tracingOff].flatMap((m) => Object.entries(m?.memoryEnd ?? {}));
  const heaviest = memories.filter(([, m]) => m).sort(([, a], [, b]) => b!.peakRssMb - a!.peakRssMb)[0];
  return [
    {
      target: '500 leads/s sustained end to end (tracing on)',
      measured: ceiling === undefined ? 'not measured' : `${ceiling}/s`,
      met: ceiling === undefined ? null : ceiling >= 500,
    },
    {
      target: 'p99 SubmitLead -> crm.synced < 100 ms at 250 leads/s',
      measured: !at250 ? (r.quick ? 'not run in --quick' : 'not measured') : at250.skipped ? `not run: ${at250.skipped}` : `p99 ${at250.latency?.p99} ms${at250.sustained ? '' : ' (rate not sustained)'}`,
      met: !at250 ? null : at250.skipped ? false : !!at250.sustained && (at250.latency?.p99 ?? Infinity) < 100,
    },
    {
      target: "intake's SubmitLead >= 50% of the bare grpc-js echo rate",
      measured: r.ratios.submitLeadOverEcho === undefined ? 'not measured' : `${pct(r.ratios.submitLeadOverEcho)} (${on?.submitLead?.ratePerSecond} vs ${r.baselines.grpcEcho?.ratePerSecond} calls/s)`,
      met: r.ratios.submitLeadOverEcho === undefined ? null : r.ratios.submitLeadOverEcho >= 0.5,
    },
    {
      target: 'tracing costs < 10% of throughput',
      measured: r.ratios.tracingCost === undefined ? 'not measured' : `${pct(r.ratios.tracingCost)} (${on?.ceiling?.throughputPerSecond}/s on vs ${r.pipeline.tracingOff?.ceiling?.throughputPerSecond}/s off)`,
      met: r.ratios.tracingCost === undefined ? null : r.ratios.tracingCost < 0.1,
    },
    {
      target: 'each service < 150 MB peak RSS',
      measured: heaviest ? `heaviest ${heaviest[0]} ${heaviest[1]!.peakRssMb} MB` : 'not measured',
      met: heaviest ? heaviest[1]!.peakRssMb < 150 : null,
    },
  ];
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
  const on = r.pipeline.tracingOn;
  const off = r.pipeline.tracingOff;
  const out: string[] = [
    '# leadmesh benchmark: latest run',
    '',
    `\`${r.command}\` on ${m.date}, commit \`${m.gitCommit.slice(0, 12)}\`${m.gitDirty ? ' (with uncommitted changes)' : ''}; ${m.cpus} × ${m.model}, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}. Every process of the suite (five services, NATS, FerretDB, Jaeger, Mailpit, the CRM simulator and the load generator) on this one machine. ${r.durationSeconds} s in all.${r.quick ? ' **Quick run: short phases and low rates; the figures are indicative only.**' : ''}`,
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
    '',
    ...r.baselines.errors.map((e) => `**Baseline failed:** ${e}`),
    '## Ratios',
    '',
    `- intake SubmitLead / bare echo: **${pct(r.ratios.submitLeadOverEcho)}**`,
    `- pipeline throughput / bare JetStream chain: **${pct(r.ratios.pipelineOverChain)}**`,
    `- tracing cost (1 - throughput on / off): **${pct(r.ratios.tracingCost)}**`,
    '',
    '## Pipeline: SubmitLead to crm.synced',
    '',
    ...modeSection('Tracing on', on),
    ...modeSection('Tracing off (OTEL_SDK_DISABLED=true)', off),
    '## Memory (peak RSS, VmHWM, MB)',
    '',
    row(['service', 'tracing on, after fixed rates', 'tracing on, end', 'tracing off, after fixed rates', 'tracing off, end']),
    row(['---', '---:', '---:', '---:', '---:']),
    ...(['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] as const).map((s) => row([s, on?.memorySteady?.[s]?.peakRssMb, on?.memoryEnd?.[s]?.peakRssMb, off?.memorySteady?.[s]?.peakRssMb, off?.memoryEnd?.[s]?.peakRssMb])),
    '',
    '"end" is after the SubmitLead flood, which leaves a backlog for the consumers.',
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
