import { isActivityType } from './activity-type.js';
import { scoreEngagement } from './engagement.js';
import { scoreFit } from './fit.js';
import { engagementGrade, fitGrade, meetsMqlThreshold } from './grade.js';
import type { RuleSet } from './rule-set.js';
import type { ScoreResult, ScoringInput } from './score.js';

export { toActivityType, type ActivityType } from './activity-type.js';
export type { LeadProfile, LifecycleStage, ScoreDimension, ScoreReason, ScoreResult, ScoredActivity, ScoringInput } from './score.js';

/** Bad input to the engine, naming the field so the gRPC edge can report it as a field violation. */
export class ScoringInputError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ScoringInputError';
  }
}

/**
 * Scores a lead with one rule set. Pure and deterministic: the same input and rule set give the same
 * result, whatever the clock says, because time is only ever read from `asOf`.
 */
export function scoreLead(input: ScoringInput, ruleSet: RuleSet): ScoreResult {
  assertValidInput(input);
  const fit = scoreFit(input.profile, ruleSet.fit);
  const engagement = scoreEngagement(input.activities, input.asOf, ruleSet.engagement);
  const fitLetter = fitGrade(fit.score, ruleSet.grades);
  const engagementDigit = engagementGrade(engagement.score, ruleSet.grades);
  return {
    fitScore: fit.score,
    engagementScore: engagement.score,
    grade: `${fitLetter}${engagementDigit}`,
    lifecycleStage: meetsMqlThreshold(fitLetter, engagementDigit, ruleSet.mql) ? 'MQL' : 'LEAD',
    reasons: [...fit.reasons, ...engagement.reasons],
    ruleSetVersion: ruleSet.version,
  };
}

/** True only when a lead crosses from not-MQL (or never scored) to MQL: the fact lead.scored announces. */
export function mqlTransition(previous: ScoreResult | undefined, next: ScoreResult): boolean {
  return previous?.lifecycleStage !== 'MQL' && next.lifecycleStage === 'MQL';
}

function assertValidInput(input: ScoringInput): void {
  if (!isValidDate(input.asOf)) throw new ScoringInputError('asOf', 'must be a valid date');
  const profile: unknown = input.profile;
  if (typeof profile !== 'object' || profile === null) throw new ScoringInputError('profile', 'is required');
  const p = input.profile;
  if (typeof p.email !== 'string') throw new ScoringInputError('profile.email', 'must be a string');
  for (const field of ['jobTitle', 'company', 'industry', 'country', 'product'] as const) {
    if (p[field] !== undefined && typeof p[field] !== 'string') {
      throw new ScoringInputError(`profile.${field}`, 'must be a string');
    }
  }
  if (p.companySize !== undefined && !(Number.isInteger(p.companySize) && p.companySize >= 0)) {
    throw new ScoringInputError('profile.companySize', 'must be a whole number of employees, 0 or more');
  }
  if (!Array.isArray(input.activities)) throw new ScoringInputError('activities', 'must be a list');
  input.activities.forEach((activity, i) => {
    if (!isActivityType(activity?.type)) {
      throw new ScoringInputError(`activities[${i}].type`, `unknown activity type '${String(activity?.type)}'`);
    }
    if (!isValidDate(activity.occurredAt)) throw new ScoringInputError(`activities[${i}].occurredAt`, 'must be a valid date');
  });
}

// Checked by tag rather than instanceof so dates built in another realm (a vm context, a worker's
// structured clone) are still accepted.
function isValidDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime());
}
