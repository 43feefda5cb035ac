import { ACTIVITY_TYPES, type ActivityType } from './activity-type.js';
import type { DocumentReader } from './document-reader.js';
import type { IdRegistry } from './rule-ids.js';
import type { ActivityRule, EngagementDecay, EngagementRules, RecencyWindow } from './rule-set.js';

// Activity points are never negative: that is what guarantees a new activity never lowers a score.
const MAX_ACTIVITY_POINTS = 100;
const MAX_WINDOW_DAYS = 3650;

export function readEngagementRules(reader: DocumentReader, value: unknown, ids: IdRegistry): EngagementRules | undefined {
  const engagement = reader.object(value, 'engagement', ['activities', 'recency', 'decay']);
  if (!engagement) return undefined;
  const activities = readActivities(reader, engagement.activities, ids);
  const recency = readRecency(reader, engagement.recency);
  const decay = readDecay(reader, engagement.decay, ids);
  if (!activities || !recency || !decay) return undefined;
  return { activities, recency, decay };
}

function readActivities(
  reader: DocumentReader,
  value: unknown,
  ids: IdRegistry,
): Partial<Record<ActivityType, ActivityRule>> | undefined {
  const path = 'engagement.activities';
  const map = reader.object(value, path, ACTIVITY_TYPES);
  if (!map) return undefined;
  if (Object.keys(map).length === 0) return reader.fail(path, 'must score at least one activity type');
  const out: Partial<Record<ActivityType, ActivityRule>> = {};
  let ok = true;
  for (const type of ACTIVITY_TYPES) {
    if (!(type in map)) continue;
    const p = `${path}.${type}`;
    const rule = reader.object(map[type], p, ['id', 'points', 'maxPoints']);
    if (!rule) {
      ok = false;
      continue;
    }
    const id = ids.read(rule.id, `${p}.id`);
    const points = reader.integer(rule.points, `${p}.points`, 0, MAX_ACTIVITY_POINTS);
    const maxPoints =
      rule.maxPoints === undefined ? undefined : reader.integer(rule.maxPoints, `${p}.maxPoints`, points ?? 0, 100);
    if (!id || points === undefined || (rule.maxPoints !== undefined && maxPoints === undefined)) {
      ok = false;
      continue;
    }
    out[type] = maxPoints === undefined ? { id, points } : { id, points, maxPoints };
  }
  return ok ? out : undefined;
}

function readRecency(reader: DocumentReader, value: unknown): RecencyWindow[] | undefined {
  const path = 'engagement.recency';
  const items = reader.array(value, path, 1);
  if (!items) return undefined;
  const windows: RecencyWindow[] = [];
  for (const [i, item] of items.entries()) {
    const p = `${path}[${i}]`;
    const window = reader.object(item, p, ['withinDays', 'percent']);
    if (!window) return undefined;
    const withinDays = reader.integer(window.withinDays, `${p}.withinDays`, 1, MAX_WINDOW_DAYS);
    const percent = reader.integer(window.percent, `${p}.percent`, 0, 100);
    if (withinDays === undefined || percent === undefined) return undefined;
    const prev = windows.at(-1);
    // Rising percentages with age would let an older activity outscore a fresh one.
    if (prev && withinDays <= prev.withinDays) {
      return reader.fail(`${p}.withinDays`, `must be longer than the previous window (${prev.withinDays} days)`);
    }
    if (prev && percent > prev.percent) {
      return reader.fail(`${p}.percent`, `must not exceed the percent of the more recent window (${prev.percent})`);
    }
    windows.push({ withinDays, percent });
  }
  return windows;
}

function readDecay(reader: DocumentReader, value: unknown, ids: IdRegistry): EngagementDecay | undefined {
  const p = 'engagement.decay';
  const decay = reader.object(value, p, ['id', 'halvesEveryDays']);
  if (!decay) return undefined;
  const id = ids.read(decay.id, `${p}.id`);
  const halvesEveryDays = reader.integer(decay.halvesEveryDays, `${p}.halvesEveryDays`, 1, MAX_WINDOW_DAYS);
  if (!id || halvesEveryDays === undefined) return undefined;
  return { id, halvesEveryDays };
}
