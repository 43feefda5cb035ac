// A batch of activities as the browser tracker sends it to the beacon door, read strictly: every
// problem is named by its field (`activities[2].type`), and a batch with any problem is refused
// whole, so nothing of it is half-written. The proto's rules (RecordActivityRequest) run after this.
import { findDuplicateKey } from './json-keys.js';
import { isValidVisitorId } from './visitor.js';
import type { FieldViolation } from './violations.js';

/** Most activities one beacon may carry: a page's worth, and well inside the body limit. */
export const MAX_BATCH = 50;

/**
 * What a browser may report. Email opens and clicks come from the email system, form submissions
 * from the form door, webinars from the webinar platform: a page claiming those would only be
 * inflating a score.
 */
export const BROWSER_ACTIVITY_TYPES = ['PAGE_VIEW', 'PRICING_PAGE_VIEW', 'CONTENT_DOWNLOAD', 'FORM_VIEWED'] as const;
export type BrowserActivityType = (typeof BROWSER_ACTIVITY_TYPES)[number];

// A beacon leaves when the page is hidden, so its activities are seconds old; a day covers a
// laptop closed on a page. Clocks run a little ahead sometimes; more than that is not a time.
const MAX_AGE_MS = 24 * 3600_000;
const MAX_AHEAD_MS = 5 * 60_000;

export interface BeaconActivity {
  activityId: string;
  type: BrowserActivityType;
  url: string;
  occurredAt: Date;
}

export interface BeaconBatch {
  visitorId: string;
  activities: BeaconActivity[];
}

export type BeaconParse = { batch: BeaconBatch; violations: [] } | { batch?: undefined; violations: FieldViolation[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseBeaconBatch(text: string, now: Date): BeaconParse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { violations: [{ field: 'body', description: 'must be a JSON object' }] };
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) return { violations: [{ field: duplicate.join('.'), description: 'given twice' }] };
  if (!isObject(body)) return { violations: [{ field: 'body', description: 'must be a JSON object' }] };
  const violations: FieldViolation[] = [];
  for (const key of Object.keys(body)) if (key !== 'visitorId' && key !== 'activities') violations.push({ field: key, description: 'unknown field' });
  const { visitorId, activities } = body;
  if (typeof visitorId !== 'string' || !isValidVisitorId(visitorId)) {
    violations.push({ field: 'visitorId', description: 'must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", "-"' });
  }
  if (!Array.isArray(activities) || activities.length === 0 || activities.length > MAX_BATCH) {
    violations.push({ field: 'activities', description: `must be a list of 1 to ${MAX_BATCH} activities` });
    return { violations };
  }
  const seen = new Set<string>();
  const parsed: BeaconActivity[] = [];
  activities.forEach((item, i) => {
    const at = `activities[${i}]`;
    if (!isObject(item)) {
      violations.push({ field: at, description: 'must be an object' });
      return;
    }
    for (const key of Object.keys(item)) if (!['activityId', 'type', 'url', 'occurredAt'].includes(key)) violations.push({ field: `${at}.${key}`, description: 'unknown field' });
    const { activityId, type, url, occurredAt } = item;
    if (typeof activityId !== 'string' || !/^[A-Za-z0-9._-]{8,128}$/.test(activityId)) {
      violations.push({ field: `${at}.activityId`, description: 'must be 8 to 128 characters of A-Z, a-z, 0-9, ".", "_", "-" (the tracker makes a random one)' });
    } else if (seen.has(activityId)) {
      violations.push({ field: `${at}.activityId`, description: 'given twice in this batch' });
    } else seen.add(activityId);
    if (typeof type !== 'string' || !(BROWSER_ACTIVITY_TYPES as readonly string[]).includes(type)) {
      violations.push({ field: `${at}.type`, description: `must be one of ${BROWSER_ACTIVITY_TYPES.join(', ')}` });
    }
    if (typeof url !== 'string') violations.push({ field: `${at}.url`, description: 'must be a string (the page, without query or fragment)' });
    const when = typeof occurredAt === 'string' && /^\d{4}-\d\d-\d\dT/.test(occurredAt) ? new Date(occurredAt) : undefined;
    if (!when || Number.isNaN(when.getTime())) violations.push({ field: `${at}.occurredAt`, description: 'must be an ISO 8601 time' });
    else if (when.getTime() > now.getTime() + MAX_AHEAD_MS || when.getTime() < now.getTime() - MAX_AGE_MS) {
      violations.push({ field: `${at}.occurredAt`, description: 'must be within the last 24 hours' });
    }
    if (violations.length === 0) parsed.push({ activityId: activityId as string, type: type as BrowserActivityType, url: url as string, occurredAt: when! });
  });
  if (violations.length > 0) return { violations };
  return { batch: { visitorId: visitorId as string, activities: parsed }, violations: [] };
}
