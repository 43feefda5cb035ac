import { delayMinutes, type Track } from './tracks.js';

export interface PlannedStep {
  stepId: string;
  template: string;
  subject: string;
  dueAt: Date;
}

const MINUTE_MS = 60_000;

/**
 * When each step of a track falls due. Every delay is an offset from enrollment, not from the
 * previous step, so "day 0, day 3, day 7" in a track file means exactly that, and a late send of
 * one step never pushes the later ones back. A day is 24 hours of UTC time: the plan does not
 * shift with daylight saving.
 */
export function planSteps(track: Track, enrolledAt: Date): PlannedStep[] {
  const start = enrolledAt.getTime();
  if (Number.isNaN(start)) throw new RangeError('enrolledAt: must be a valid date');
  return track.steps.map((step) => ({
    stepId: step.id,
    template: step.template,
    subject: step.subject,
    dueAt: new Date(start + delayMinutes(step.delay) * MINUTE_MS),
  }));
}

/** Backoff for an email step that failed to send: 30 s, 1 min, 2 min, ... capped at 1 hour. */
export const SEND_RETRY = { baseMs: 30_000, capMs: 60 * MINUTE_MS } as const;

/**
 * Delay before retry number `attempt` (1 = the retry after the first failure). No jitter: each
 * due step is claimed by one replica through the store, so retries do not stampede, and a
 * deterministic delay keeps the stored due time reproducible.
 */
export function retryDelayMs(attempt: number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt: must be an integer >= 1, got ${attempt}`);
  // 2 ** large overflows to Infinity, which the cap absorbs.
  return Math.min(SEND_RETRY.capMs, SEND_RETRY.baseMs * 2 ** (attempt - 1));
}
