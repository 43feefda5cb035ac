import type { EngagementGrade, FitGrade, GradeBoundaries, MqlRule } from './rule-set.js';
import { ENGAGEMENT_GRADES, FIT_GRADES } from './rule-set-grades.js';

/** The best letter whose minimum the score reaches; a score exactly on a boundary earns that grade. */
export function fitGrade(fitScore: number, grades: GradeBoundaries): FitGrade {
  const { A, B, C } = grades.fit;
  if (fitScore >= A) return 'A';
  if (fitScore >= B) return 'B';
  if (fitScore >= C) return 'C';
  return 'D';
}

export function engagementGrade(engagementScore: number, grades: GradeBoundaries): EngagementGrade {
  const boundaries = grades.engagement;
  if (engagementScore >= boundaries['1']) return '1';
  if (engagementScore >= boundaries['2']) return '2';
  if (engagementScore >= boundaries['3']) return '3';
  return '4';
}

/** Both grades must reach the rule's minimum; A and 1 are the best, so "at least" means "index ≤". */
export function meetsMqlThreshold(fit: FitGrade, engagement: EngagementGrade, rule: MqlRule): boolean {
  return (
    FIT_GRADES.indexOf(fit) <= FIT_GRADES.indexOf(rule.minFitGrade) &&
    ENGAGEMENT_GRADES.indexOf(engagement) <= ENGAGEMENT_GRADES.indexOf(rule.minEngagementGrade)
  );
}
