import type { EnrollmentStatus } from './enrollment.js';
import type { StepDelay } from './tracks.js';

/** A step's delay after enrollment in seconds, as the console shows it. */
export function delaySeconds(delay: StepDelay): number {
  return ((delay.days ?? 0) * 24 * 60 + (delay.hours ?? 0) * 60 + (delay.minutes ?? 0)) * 60;
}

export interface EnrollmentTally {
  active: number;
  completed: number;
  exited: number;
}

/** Counts per track and status (as the store groups them) folded into one tally per track. */
export function tallyEnrollments(rows: { trackId: string; status: EnrollmentStatus; count: number }[]): Map<string, EnrollmentTally> {
  const tallies = new Map<string, EnrollmentTally>();
  for (const { trackId, status, count } of rows) {
    const tally = tallies.get(trackId) ?? { active: 0, completed: 0, exited: 0 };
    if (status === 'ACTIVE') tally.active += count;
    else if (status === 'COMPLETED') tally.completed += count;
    else if (status === 'EXITED') tally.exited += count;
    tallies.set(trackId, tally);
  }
  return tallies;
}
