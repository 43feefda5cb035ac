// leadmesh.scoring.v1, plus the score read model under its old name while code is renamed: it moved
// to leadmesh.lead.v1 with the same fields, numbers and JSON names, so messages read the same.
export * from './gen/leadmesh/scoring/v1/scoring_service_pb.js';
/** @deprecated moved to leadmesh.lead.v1: use `lead.LeadScore` and friends; delete once nothing uses these. */
export {
  LeadScoreSchema,
  ScoreReasonSchema,
  LifecycleStage,
  LifecycleStageSchema,
  ScoreDimension,
  ScoreDimensionSchema,
  type LeadScore,
  type ScoreReason,
} from './gen/leadmesh/lead/v1/score_pb.js';
