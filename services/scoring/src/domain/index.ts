// The scoring domain as other teams reuse it: plain TypeScript, no framework or transport types.
export { ACTIVITY_TYPES, isActivityType } from './activity-type.js';
export { mqlTransition, scoreLead, ScoringInputError, toActivityType } from './engine.js';
export type { ActivityType, LeadProfile, LifecycleStage, ScoreDimension, ScoreReason, ScoreResult, ScoredActivity, ScoringInput } from './engine.js';
export { scoreChanged, type ScoreOutcome } from './score-change.js';
export { engagementGrade, fitGrade, meetsMqlThreshold } from './grade.js';
export {
  compareRuleSetVersions,
  ENGAGEMENT_BOUNDS_RULE_ID,
  FIT_BOUNDS_RULE_ID,
  parseRuleSet,
  RuleSetError,
} from './rule-set.js';
export type {
  ActivityRule,
  CompanySizeBand,
  CountryRule,
  EngagementDecay,
  EngagementGrade,
  EngagementRules,
  FitGrade,
  FitRules,
  FreeMailRule,
  GradeBoundaries,
  IndustryRule,
  KeywordRule,
  MqlRule,
  RecencyWindow,
  RuleSet,
} from './rule-set.js';
