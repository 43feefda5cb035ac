// The one load generator every phase uses: the baselines and the pipeline are driven the same way,
// so their ratios compare like with like.
import { performance } from 'node:perf_hooks';
import type { HistogramKind, LatencyHistogram } from './histogram.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CallRun {
  inFlight: number;
  durationMs: number;
  /** Calls started before this much time are not counted (connection set-up, JIT). */
  warmupMs: number;
}

export interface CallResult {
  calls: number;
  errors: number;
  firstError?: string;
  ratePerSecond: number;
  latency: LatencyHistogram;
}

/** Closed loop: `inFlight` unary calls outstanding at all times for a fixed duration. */
export async function closedLoopCalls(run: CallRun, kind: HistogramKind, call: (i: number) => Promise<unknown>): Promise<CallResult> {
  const latency = kind.create();
  const start = performance.now();
  const measureFrom = start + run.warmupMs;
  const end = measureFrom + run.durationMs;
  let i = 0;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await call(i++);
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) {
          latency.record(t1 - t0);
          calls++;
        }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: run.inFlight }, worker));
  return { calls, errors, firstError, ratePerSecond: calls / (run.durationMs / 1000), latency };
}

/**
 * Matches completions (a crm.synced, or the last hop of the bare chain) to what was sent. A
 * completion may arrive before the submit call has returned the id, so early ones are kept.
 */
export class CompletionTracker {
  private readonly waiting = new Map<string, (at: number) => void>();
  private readonly early = new Map<string, number>();
  /** Ids already completed: crm-sync publishes crm.synced again when a later event (an enrollment) updates the CRM. */
  private readonly seen = new Set<string>();
  /** Completion times of every id, matched or not, for throughput over a window: the first completion of each. */
  readonly completedAt: number[] = [];

  complete(id: string, at = performance.now()): void {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.completedAt.push(at);
    const done = this.waiting.get(id);
    if (done) {
      this.waiting.delete(id);
      done(at);
    } else if (this.early.size < 100_000) {
      this.early.set(id, at);
    }
  }

  /** Resolves with the completion time (performance.now()) of `id`. */
  expect(id: string): Promise<number> {
    const early = this.early.get(id);
    if (early !== undefined) {
      this.early.delete(id);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  get outstanding(): number {
    return this.waiting.size;
  }

  completionsBetween(from: number, to: number): number {
    let n = 0;
    for (const t of this.completedAt) if (t >= from && t < to) n++;
    return n;
  }

  forget(): void {
    this.seen.clear();
    this.waiting.clear();
    this.early.clear();
    this.completedAt.length = 0;
  }
}

/** A lead's end-to-end sample: when it was due to be sent (ms from the phase start) and how long it took. */
export interface E2ESample {
  at: number;
  ms: number;
}

export interface E2EResult {
  sent: number;
  completed: number;
  submitErrors: number;
  firstError?: string;
  /** Ids still outstanding when the phase gave up waiting. */
  lost: number;
  /** Completions per second over the steady window (after warm-up, until sending stopped). */
  throughputPerSecond: number;
  /** Submissions per second offered over the same window. */
  offeredPerSecond: number;
  latency: LatencyHistogram;
  samples: E2ESample[];
  /** Set when the phase stopped early because the backlog kept growing. */
  abandoned?: string;
}

export interface E2ERun {
  durationMs: number;
  warmupMs: number;
  /** How long to wait for stragglers once sending stops. */
  drainMs: number;
}

type Submit = (i: number) => Promise<string>;

async function drain(pending: Set<Promise<void>>, drainMs: number): Promise<void> {
  const deadline = performance.now() + drainMs;
  while (pending.size && performance.now() < deadline) await Promise.race([...pending, sleep(100)]);
}

function finish(tracker: CompletionTracker, state: { sent: number; completed: number; errors: number; firstError?: string; abandoned?: string }, pendingSize: number, latency: LatencyHistogram, samples: E2ESample[], windowFrom: number, windowTo: number, sentInWindow: number): E2EResult {
  const seconds = Math.max(0.001, (windowTo - windowFrom) / 1000);
  return {
    sent: state.sent,
    completed: state.completed,
    submitErrors: state.errors,
    firstError: state.firstError,
    lost: pendingSize,
    throughputPerSecond: tracker.completionsBetween(windowFrom, windowTo) / seconds,
    offeredPerSecond: sentInWindow / seconds,
    latency,
    samples,
    abandoned: state.abandoned,
  };
}

/**
 * Open loop at a fixed rate: sends are scheduled on the clock whatever the system does, and each
 * latency counts from the scheduled time, so a stall is not hidden (no coordinated omission).
 * Gives up when the backlog passes `maxBacklog` leads: the rate is not sustainable.
 */
export async function openLoopE2E(rate: number, run: E2ERun & { maxBacklog: number }, kind: HistogramKind, tracker: CompletionTracker, submit: Submit): Promise<E2EResult> {
  const latency = kind.create();
  const samples: E2ESample[] = [];
  const pending = new Set<Promise<void>>();
  const state: { sent: number; completed: number; errors: number; firstError?: string; abandoned?: string } = { sent: 0, completed: 0, errors: 0 };
  const start = performance.now();
  const measureFrom = start + run.warmupMs;
  const end = measureFrom + run.durationMs;
  let sentInWindow = 0;
  const send = (i: number, due: number) => {
    if (due >= measureFrom) sentInWindow++;
    const job = submit(i)
      .then((id) => tracker.expect(id))
      .then((at) => {
        state.completed++;
        if (due >= measureFrom) {
          latency.record(at - due);
          samples.push({ at: Math.round(due - measureFrom), ms: Math.round((at - due) * 100) / 100 });
        }
      })
      .catch((err) => {
        state.errors++;
        state.firstError ??= (err as Error).message;
      })
      .finally(() => pending.delete(job));
    pending.add(job);
  };
  while (true) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor(((now - start) / 1000) * rate);
    while (state.sent < due) {
      send(state.sent, start + (state.sent * 1000) / rate);
      state.sent++;
    }
    if (pending.size > run.maxBacklog) {
      state.abandoned = `backlog passed ${run.maxBacklog} leads after ${Math.round((now - start) / 1000)} s`;
      break;
    }
    await sleep(2);
  }
  const stoppedAt = Math.min(performance.now(), end);
  await drain(pending, run.drainMs);
  return finish(tracker, state, pending.size, latency, samples, measureFrom, stoppedAt, sentInWindow);
}

/** Closed loop end to end: `window` leads outstanding from submit to completion, a new one sent as each completes. */
export async function closedLoopE2E(window: number, run: E2ERun, kind: HistogramKind, tracker: CompletionTracker, submit: Submit): Promise<E2EResult> {
  const latency = kind.create();
  const samples: E2ESample[] = [];
  const pending = new Set<Promise<void>>();
  const state: { sent: number; completed: number; errors: number; firstError?: string } = { sent: 0, completed: 0, errors: 0 };
  const start = performance.now();
  const measureFrom = start + run.warmupMs;
  const end = measureFrom + run.durationMs;
  let sentInWindow = 0;
  const giveUp = sleep(run.warmupMs + run.durationMs + run.drainMs).then(() => -1);
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const i = state.sent++;
      if (t0 >= measureFrom) sentInWindow++;
      let done!: () => void;
      const job = new Promise<void>((r) => (done = r));
      pending.add(job);
      try {
        const id = await submit(i);
        const at = await Promise.race([tracker.expect(id), giveUp]);
        if (at < 0) throw new Error(`lead ${id} did not complete`);
        state.completed++;
        if (t0 >= measureFrom) {
          latency.record(at - t0);
          samples.push({ at: Math.round(t0 - measureFrom), ms: Math.round((at - t0) * 100) / 100 });
        }
      } catch (err) {
        state.errors++;
        state.firstError ??= (err as Error).message;
        await sleep(20);
      } finally {
        pending.delete(job);
        done();
      }
    }
  };
  const workers = Promise.all(Array.from({ length: window }, worker));
  await Promise.race([workers, giveUp]);
  return finish(tracker, state, pending.size, latency, samples, measureFrom, end, sentInWindow);
}
