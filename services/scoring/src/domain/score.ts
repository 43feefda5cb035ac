import type { ActivityType } from './activity-type.js';
import { signed } from './text.js';

/** What scoring needs to know about a lead; the plain-TypeScript twin of leadmesh.lead.v1.LeadProfile. */
export interface LeadProfile {
  email: string;
  jobTitle?: string;
  company?: string;
  /** Employee count; 0 means unknown, as in the proto. */
  companySize?: number;
  industry?: string;
  /** ISO 3166-1 alpha-2 code, as intake normalises it. */
  country?: string;
  product?: string;
  source?: { formId?: string; utmSource?: string; utmMedium?: string; utmCampaign?: string };
}

export interface ScoredActivity {
  type: ActivityType;
  occurredAt: Date;
}

export interface ScoringInput {
  profile: LeadProfile;
  activities: ScoredActivity[];
  /** The moment the score is computed for: engagement decays relative to it, later activity is ignored. */
  asOf: Date;
}

export type ScoreDimension = 'FIT' | 'ENGAGEMENT';
export type LifecycleStage = 'LEAD' | 'MQL';

/** One rule's contribution; the points of a dimension's reasons always add up to its score. */
export interface ScoreReason {
  ruleId: string;
  dimension: ScoreDimension;
  points: number;
  explanation: string;
}

export interface ScoreResult {
  /** 0-100. */
  fitScore: number;
  /** 0-100. */
  engagementScore: number;
  /** Fit letter (A best) and engagement digit (1 best), e.g. "A1". */
  grade: string;
  lifecycleStage: LifecycleStage;
  reasons: ScoreReason[];
  ruleSetVersion: string;
}

export const MIN_SCORE = 0;
export const MAX_SCORE = 100;

export function reason(ruleId: string, dimension: ScoreDimension, points: number, sentence: string): ScoreReason {
  return { ruleId, dimension, points, explanation: `${sentence} (${signed(points)})` };
}

export function total(reasons: readonly ScoreReason[]): number {
  return reasons.reduce((sum, r) => sum + r.points, 0);
}

/**
 * Brings a sum into 0-100 and records the correction as a reason of its own, so the reasons still
 * add up to the score a marketer sees.
 */
export function clampWithReason(
  reasons: ScoreReason[],
  ruleId: string,
  dimension: ScoreDimension,
  scoreName: string,
): number {
  const sum = total(reasons);
  if (sum > MAX_SCORE) reasons.push(reason(ruleId, dimension, MAX_SCORE - sum, `${scoreName} is capped at ${MAX_SCORE}`));
  if (sum < MIN_SCORE) reasons.push(reason(ruleId, dimension, MIN_SCORE - sum, `${scoreName} cannot go below ${MIN_SCORE}`));
  return Math.min(MAX_SCORE, Math.max(MIN_SCORE, sum));
}
