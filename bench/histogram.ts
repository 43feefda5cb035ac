// Latency recording behind one small interface, so the figures come from HDR Histogram when the
// hdr-histogram-js package is installed, and from an exact sample list until then.
import { createRequire } from 'node:module';

export interface LatencyHistogram {
  /** A latency in milliseconds (fractions kept to the microsecond). */
  record(ms: number): void;
  readonly count: number;
  readonly mean: number;
  readonly max: number;
  /** The latency (ms) at or below which `p` percent of the recorded values fall. */
  percentile(p: number): number;
}

export interface HistogramKind {
  name: string;
  create(): LatencyHistogram;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(h: LatencyHistogram): LatencySummary {
  const r = (v: number) => Math.round(v * 100) / 100;
  return { count: h.count, mean: r(h.mean), p50: r(h.percentile(50)), p90: r(h.percentile(90)), p99: r(h.percentile(99)), p999: r(h.percentile(99.9)), max: r(h.max) };
}

/** Points of the percentile curve, for the distribution chart. */
export const CURVE_PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 100];

interface HdrModule {
  build(request: Record<string, unknown>): {
    recordValue(v: number): void;
    getValueAtPercentile(p: number): number;
    readonly totalCount: number;
    readonly maxValue: number;
    readonly mean: number;
  };
}

function hdrKind(hdr: HdrModule): HistogramKind {
  return {
    name: 'hdr-histogram-js (3 significant digits, microsecond units)',
    create() {
      // Microseconds as integers: HDR records integers, and sub-millisecond detail matters for gRPC.
      const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
      return {
        record: (ms) => h.recordValue(Math.max(1, Math.round(ms * 1000))),
        get count() {
          return h.totalCount;
        },
        get mean() {
          return h.totalCount ? h.mean / 1000 : 0;
        },
        get max() {
          return h.maxValue / 1000;
        },
        percentile: (p) => (h.totalCount ? h.getValueAtPercentile(p) / 1000 : 0),
      };
    },
  };
}

/** Stand-in while hdr-histogram-js is not installed: keeps every sample and reads exact order statistics. */
function exactKind(): HistogramKind {
  return {
    name: 'exact sample list (hdr-histogram-js not installed)',
    create() {
      const values: number[] = [];
      let sorted = true;
      let sum = 0;
      const order = () => {
        if (!sorted) values.sort((a, b) => a - b);
        sorted = true;
      };
      return {
        record(ms) {
          if (values.length && ms < values[values.length - 1]!) sorted = false;
          values.push(ms);
          sum += ms;
        },
        get count() {
          return values.length;
        },
        get mean() {
          return values.length ? sum / values.length : 0;
        },
        get max() {
          order();
          return values[values.length - 1] ?? 0;
        },
        percentile(p) {
          order();
          if (!values.length) return 0;
          const rank = Math.max(1, Math.ceil((p / 100) * values.length));
          return values[Math.min(values.length, rank) - 1]!;
        },
      };
    },
  };
}

export function histogramKind(): HistogramKind {
  try {
    const hdr = createRequire(import.meta.url)('hdr-histogram-js') as HdrModule;
    return hdrKind(hdr);
  } catch {
    return exactKind();
  }
}
