import { ACTIVITY_TYPES, activityNoun, type ActivityType } from './activity-type.js';
import { ENGAGEMENT_BOUNDS_RULE_ID } from './rule-ids.js';
import type { ActivityRule, EngagementRules, RecencyWindow } from './rule-set.js';
import { clampWithReason, reason, type ScoredActivity, type ScoreReason } from './score.js';

const DAY_MS = 86_400_000;

export interface EngagementScore {
  score: number;
  reasons: ScoreReason[];
}

/**
 * Scores what the lead did: each activity earns its type's points scaled by the recency window its
 * age falls in (rounded per activity, so moving an activity further back can never add a point),
 * each type is capped at its maxPoints, the sum is capped at 100, and then the whole score halves
 * for every full decay period since the latest activity.
 */
export function scoreEngagement(activities: readonly ScoredActivity[], asOf: Date, rules: EngagementRules): EngagementScore {
  const asOfMs = asOf.getTime();
  const counts = new Map<ActivityType, number[]>();
  let latestMs: number | undefined;

  for (const activity of activities) {
    const ageMs = asOfMs - activity.occurredAt.getTime();
    if (ageMs < 0 || !rules.activities[activity.type]) continue;
    const window = rules.recency.findIndex((w) => ageMs <= w.withinDays * DAY_MS);
    if (window < 0) continue;
    const perWindow = counts.get(activity.type) ?? rules.recency.map(() => 0);
    perWindow[window] = (perWindow[window] ?? 0) + 1;
    counts.set(activity.type, perWindow);
    latestMs = Math.max(latestMs ?? Number.NEGATIVE_INFINITY, activity.occurredAt.getTime());
  }

  const reasons: ScoreReason[] = [];
  for (const type of ACTIVITY_TYPES) {
    const rule = rules.activities[type];
    const perWindow = counts.get(type);
    if (rule && perWindow) reasons.push(...activityReasons(type, rule, perWindow, rules.recency));
  }
  const capped = clampWithReason(reasons, ENGAGEMENT_BOUNDS_RULE_ID, 'ENGAGEMENT', 'Engagement score');

  if (latestMs === undefined || capped === 0) return { score: capped, reasons };
  const idleDays = Math.floor((asOfMs - latestMs) / DAY_MS);
  const halvings = Math.floor(idleDays / rules.decay.halvesEveryDays);
  const decayed = Math.floor(capped / 2 ** halvings);
  if (decayed < capped) {
    const times = halvings === 1 ? 'once' : `${halvings} times`;
    reasons.push(
      reason(
        rules.decay.id,
        'ENGAGEMENT',
        decayed - capped,
        `No activity for ${idleDays} days: engagement halves every ${rules.decay.halvesEveryDays} days, so it was halved ${times}`,
      ),
    );
  }
  return { score: decayed, reasons };
}

function activityReasons(type: ActivityType, rule: ActivityRule, perWindow: number[], recency: RecencyWindow[]): ScoreReason[] {
  const reasons: ScoreReason[] = [];
  let earned = 0;
  recency.forEach((window, i) => {
    const count = perWindow[i] ?? 0;
    const each = Math.round((rule.points * window.percent) / 100);
    if (count === 0 || each === 0) return;
    const when = i === 0 ? `in the last ${window.withinDays} days` : `${recency[i - 1]!.withinDays} to ${window.withinDays} days ago`;
    const details = [
      ...(count > 1 ? [`${count} x ${each}`] : []),
      ...(window.percent < 100 ? [`${window.percent}% of ${rule.points} points for their age`] : []),
    ];
    const detail = details.length > 0 ? ` [${details.join('; ')}]` : '';
    reasons.push(reason(rule.id, 'ENGAGEMENT', count * each, `${count} ${activityNoun(type, count)} ${when}${detail}`));
    earned += count * each;
  });
  if (rule.maxPoints !== undefined && earned > rule.maxPoints) {
    const noun = activityNoun(type, 2);
    const sentence = `${noun[0]!.toUpperCase()}${noun.slice(1)} count for at most ${rule.maxPoints} points`;
    reasons.push(reason(rule.id, 'ENGAGEMENT', rule.maxPoints - earned, sentence));
  }
  return reasons;
}
