import { fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { scoring, type lead } from '@leadmesh/contracts';
import type { ScoreResult, ScoringInput } from './domain/engine.js';
import type { ScoreOutcome } from './domain/score-change.js';

/** The proto profile as the scoring engine sees it. */
export function toScoringProfile(profile: lead.LeadProfile | undefined): ScoringInput['profile'] {
  const c = profile?.contact;
  const s = profile?.source;
  return {
    email: c?.email ?? '',
    jobTitle: c?.jobTitle || undefined,
    company: c?.company || undefined,
    companySize: c?.companySize || undefined,
    industry: c?.industry || undefined,
    country: c?.country || undefined,
    product: profile?.interest?.product || undefined,
    source: s ? { formId: s.formId || undefined, utmSource: s.utmSource || undefined, utmMedium: s.utmMedium || undefined, utmCampaign: s.utmCampaign || undefined } : undefined,
  };
}

export function toLeadScore(leadId: string, result: ScoreResult, scoredAt: Date): MessageInitShape<typeof scoring.LeadScoreSchema> {
  return {
    leadId,
    fitScore: result.fitScore,
    engagementScore: result.engagementScore,
    grade: result.grade,
    lifecycleStage: result.lifecycleStage === 'MQL' ? scoring.LifecycleStage.MQL : scoring.LifecycleStage.LEAD,
    reasons: result.reasons.map((r) => ({
      ruleId: r.ruleId,
      dimension: r.dimension === 'FIT' ? scoring.ScoreDimension.FIT : scoring.ScoreDimension.ENGAGEMENT,
      points: r.points,
      explanation: r.explanation,
    })),
    ruleSetVersion: result.ruleSetVersion,
    scoredAt: timestampFromDate(scoredAt),
  };
}

/** A stored score (proto JSON; history entries also carry the id of what caused them). */
export function readLeadScore(json: Record<string, unknown>): scoring.LeadScore {
  return fromJson(scoring.LeadScoreSchema, json as JsonValue, { ignoreUnknownFields: true });
}

export function toScoreOutcome(score: scoring.LeadScore): ScoreOutcome {
  return {
    fitScore: score.fitScore,
    engagementScore: score.engagementScore,
    grade: score.grade,
    lifecycleStage: score.lifecycleStage === scoring.LifecycleStage.MQL ? 'MQL' : 'LEAD',
  };
}
