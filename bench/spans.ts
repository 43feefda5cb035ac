// Where the time goes per hop, read back from the traces Jaeger holds for a phase of the run.

const JAEGER = 'http://127.0.0.1:16686';

interface JaegerSpan {
  spanID: string;
  operationName: string;
  processID: string;
  startTime: number;
  duration: number;
  tags: Array<{ key: string; value: unknown }>;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

export interface Stat {
  n: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
}

export interface HopReport {
  traces: number;
  /** Complete traces (SubmitLead to crm.synced published) among them. */
  completeTraces: number;
  /** Inside one trace: SubmitLead starts to crm-sync's publish of crm.synced ends. */
  endToEnd?: Stat;
  /** Publish of a subject to the start of each consumer's processing span: the broker hop. */
  brokerHops: Record<string, Stat>;
  /** Server and consumer spans: the work each service does per lead. */
  processing: Record<string, Stat>;
  /** Per service, the time of its MongoDB calls summed over one lead (FerretDB here). */
  storePerLead: Record<string, Stat>;
  /** crm-sync's outbound CRM HTTP calls and its gRPC reads of the other services. */
  calls: Record<string, Stat>;
  /** Spans in one complete trace: all of them, per service, and the store's among them. */
  spansPerTrace?: CountStat;
  spansPerService: Record<string, CountStat>;
  storeSpansPerTrace?: CountStat;
  /**
   * gRPC client spans in one complete trace, made by the services themselves (the load generator
   * is not traced): the cross-service calls on the pipeline path, with which ones they were.
   */
  grpcClientCallsPerTrace?: CountStat;
  grpcClientCalls: Record<string, number>;
  error?: string;
}

export interface CountStat {
  n: number;
  mean: number;
  p50: number;
  min: number;
  max: number;
}

function countStat(values: number[]): CountStat {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: values.length,
    mean: Math.round((values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)) * 10) / 10,
    p50: sorted[Math.max(0, Math.ceil(sorted.length / 2) - 1)] ?? 0,
    min: sorted[0] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: values.length, meanMs: r(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)), p50Ms: r(at(50)), p90Ms: r(at(90)) };
}

function push(into: Map<string, number[]>, key: string, value: number): void {
  const list = into.get(key) ?? [];
  list.push(value);
  into.set(key, list);
}

const statsOf = (m: Map<string, number[]>) => Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, stat(v)]));

/** Analyses up to `limit` traces of SubmitLead calls made between `startMs` and `endMs` (epoch ms). */
export async function hopReport(namespace: string, startMs: number, endMs: number, limit: number): Promise<HopReport> {
  const params = new URLSearchParams({
    service: 'intake',
    operation: 'grpc.leadmesh.intake.v1.IntakeService/SubmitLead',
    start: String(Math.floor(startMs * 1000)),
    end: String(Math.ceil(endMs * 1000)),
    limit: String(limit),
  });
  const empty: HopReport = { traces: 0, completeTraces: 0, brokerHops: {}, processing: {}, storePerLead: {}, calls: {}, spansPerService: {}, grpcClientCalls: {} };
  let traces: JaegerTrace[];
  try {
    const res = await fetch(`${JAEGER}/api/traces?${params}`, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) return { ...empty, error: `Jaeger answered ${res.status}` };
    traces = ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
  } catch (err) {
    return { ...empty, error: `Jaeger query failed: ${(err as Error).message}` };
  }
  const prefix = `${namespace}.`;
  const clean = (op: string) => op.replace(` ${prefix}`, ' ');
  const brokerHops = new Map<string, number[]>();
  const processing = new Map<string, number[]>();
  const store = new Map<string, number[]>();
  const calls = new Map<string, number[]>();
  const endToEnd: number[] = [];
  const spanCounts: number[] = [];
  const storeSpanCounts: number[] = [];
  const grpcClientCounts: number[] = [];
  const perService = new Map<string, number[]>();
  const grpcClientCalls: Record<string, number> = {};
  for (const trace of traces) {
    const service = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName ?? '?';
    const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
    const publishes = new Map<string, number>();
    const storeTime = new Map<string, number>();
    let submitStart: number | undefined;
    let syncedEnd: number | undefined;
    for (const span of trace.spans) {
      const op = clean(span.operationName);
      const svc = service(span);
      const ms = span.duration / 1000;
      const kind = tag(span, 'span.kind');
      if (op.startsWith('publish ')) {
        const subject = op.slice('publish '.length);
        publishes.set(subject, Math.min(publishes.get(subject) ?? Infinity, span.startTime));
        if (subject === 'leadmesh.crm.synced') syncedEnd = span.startTime + span.duration;
      }
      if (tag(span, 'db.system.name') === 'mongodb' || tag(span, 'db.system') === 'mongodb') {
        storeTime.set(svc, (storeTime.get(svc) ?? 0) + ms);
      } else if (kind === 'server' || kind === 'consumer') {
        push(processing, `${svc} ${op}`, ms);
        if (op === 'grpc.leadmesh.intake.v1.IntakeService/SubmitLead') submitStart = span.startTime;
      } else if (kind === 'client' && svc === 'crm-sync') {
        const method = tag(span, 'http.request.method');
        push(calls, method ? `crm-sync CRM HTTP ${method}` : `crm-sync ${op}`, ms);
      }
    }
    for (const span of trace.spans) {
      const op = clean(span.operationName);
      if (!op.startsWith('process ')) continue;
      const subject = op.slice('process '.length);
      const published = publishes.get(subject);
      if (published !== undefined) push(brokerHops, `${subject} -> ${service(span)}`, (span.startTime - published) / 1000);
    }
    for (const [svc, ms] of storeTime) push(store, svc, ms);
    if (submitStart !== undefined && syncedEnd !== undefined) {
      endToEnd.push((syncedEnd - submitStart) / 1000);
      // Counted on complete traces only: a trace still arriving would understate the count.
      spanCounts.push(trace.spans.length);
      const byService = new Map<string, number>();
      let storeSpans = 0;
      let grpcClient = 0;
      for (const span of trace.spans) {
        byService.set(service(span), (byService.get(service(span)) ?? 0) + 1);
        if (tag(span, 'db.system.name') === 'mongodb' || tag(span, 'db.system') === 'mongodb') storeSpans++;
        if (tag(span, 'span.kind') === 'client' && tag(span, 'rpc.system') === 'grpc') {
          grpcClient++;
          const key = `${service(span)} ${span.operationName}`;
          grpcClientCalls[key] = (grpcClientCalls[key] ?? 0) + 1;
        }
      }
      for (const [svc, n] of byService) push(perService, svc, n);
      storeSpanCounts.push(storeSpans);
      grpcClientCounts.push(grpcClient);
    }
  }
  return {
    traces: traces.length,
    completeTraces: endToEnd.length,
    endToEnd: endToEnd.length ? stat(endToEnd) : undefined,
    brokerHops: statsOf(brokerHops),
    processing: statsOf(processing),
    storePerLead: statsOf(store),
    calls: statsOf(calls),
    spansPerTrace: spanCounts.length ? countStat(spanCounts) : undefined,
    spansPerService: Object.fromEntries([...perService.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, countStat(v)])),
    storeSpansPerTrace: storeSpanCounts.length ? countStat(storeSpanCounts) : undefined,
    grpcClientCallsPerTrace: grpcClientCounts.length ? countStat(grpcClientCounts) : undefined,
    grpcClientCalls,
  };
}
