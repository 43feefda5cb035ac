import type { ScoreResult } from './score.js';

/** The parts of a score that sales, routing and nurture act on. */
export type ScoreOutcome = Pick<ScoreResult, 'fitScore' | 'engagementScore' | 'grade' | 'lifecycleStage'>;

/**
 * True when a rescore moved something downstream acts on. Reasons and the rule-set version alone do
 * not count: re-announcing an unchanged lead after every activation would re-route it for nothing.
 */
export function scoreChanged(previous: ScoreOutcome | undefined, next: ScoreOutcome): boolean {
  if (!previous) return true;
  return (
    previous.fitScore !== next.fitScore ||
    previous.engagementScore !== next.engagementScore ||
    previous.grade !== next.grade ||
    previous.lifecycleStage !== next.lifecycleStage
  );
}
