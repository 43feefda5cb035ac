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

/** One planned step of one enrollment, handed to a sender. */
export interface DueStep {
  trackId: string;
  step: PlannedStep;
}

/** The enrollment fields the hand-over reads (domain/enrollment's Enrollment has them all). */
export interface ScheduledEnrollment {
  trackId: string;
  status: 'ACTIVE' | 'COMPLETED' | 'EXITED';
  steps: PlannedStep[];
}

/**
 * Which of a lead's steps go to a sender now, and when to look at the lead again.
 *
 * A lead keeps one time mark, `nextStepAt`: every step of an active enrollment due before it has
 * already been handed to a sender (which records each step it is handed, once), every step due at
 * or after it has not. Steps of an enrollment entered in this very change are all new. So one
 * field on the lead's own document stands for its whole schedule: an event's single write moves
 * it, and a sweep finds the leads whose mark has come. Steps of ended enrollments simply stop
 * counting.
 *
 * With `handOver`, every pending step due by `now` is handed over and the mark moves to the
 * first pending step after `now`; without it (a change that sends nothing itself) nothing is
 * handed over and the mark is the first pending step, past or future.
 */
export function takeDueSteps(
  enrollments: ScheduledEnrollment[],
  nextStepAt: Date | undefined | null,
  enteredTrackIds: ReadonlySet<string>,
  now: Date,
  handOver = true,
): { due: DueStep[]; nextStepAt?: Date } {
  const due: DueStep[] = [];
  let next: Date | undefined;
  for (const enrollment of enrollments) {
    if (enrollment.status !== 'ACTIVE') continue;
    const entered = enteredTrackIds.has(enrollment.trackId);
    for (const step of enrollment.steps) {
      const pending = entered || (nextStepAt != null && step.dueAt.getTime() >= nextStepAt.getTime());
      if (!pending) continue;
      if (handOver && step.dueAt.getTime() <= now.getTime()) due.push({ trackId: enrollment.trackId, step });
      else if (!next || step.dueAt.getTime() < next.getTime()) next = step.dueAt;
    }
  }
  due.sort((a, b) => a.step.dueAt.getTime() - b.step.dueAt.getTime());
  return next ? { due, nextStepAt: next } : { due };
}
