// The highest sustainable rate: end-to-end closed loop with more and more leads in flight, until
// more in flight no longer buys more throughput (only queueing).
import type { HistogramKind } from './histogram.ts';
import { summarize, type LatencySummary } from './histogram.ts';
import { closedLoopE2E, type CompletionTracker, type E2EResult, type E2ERun } from './load.ts';

export interface CeilingStep {
  inFlight: number;
  throughputPerSecond: number;
  sent: number;
  completed: number;
  errors: number;
  lost: number;
  firstError?: string;
  latency: LatencySummary;
}

export interface Ceiling {
  throughputPerSecond: number;
  bestInFlight: number;
  steps: CeilingStep[];
}

export function stepOf(inFlight: number, r: E2EResult): CeilingStep {
  return {
    inFlight,
    throughputPerSecond: Math.round(r.throughputPerSecond * 10) / 10,
    sent: r.sent,
    completed: r.completed,
    errors: r.submitErrors,
    lost: r.lost,
    firstError: r.firstError,
    latency: summarize(r.latency),
  };
}

export async function findCeiling(
  windows: number[],
  run: E2ERun,
  kind: HistogramKind,
  tracker: CompletionTracker,
  submit: (i: number) => Promise<string>,
  log: (line: string) => void,
): Promise<Ceiling> {
  const steps: CeilingStep[] = [];
  let best: CeilingStep | undefined;
  for (const window of windows) {
    tracker.forget();
    const step = stepOf(window, await closedLoopE2E(window, run, kind, tracker, submit));
    steps.push(step);
    log(`  ${window} in flight: ${step.throughputPerSecond}/s, p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms${step.errors ? `, ${step.errors} errors (${step.firstError})` : ''}`);
    const gained = !best || step.throughputPerSecond > best.throughputPerSecond * 1.05;
    if (!best || step.throughputPerSecond > best.throughputPerSecond) best = step;
    if (!gained) break;
  }
  return { throughputPerSecond: best?.throughputPerSecond ?? 0, bestInFlight: best?.inFlight ?? 0, steps };
}
