// The engagement signals scoring understands. The order is the order reasons are listed in, so a
// marketer reads the strongest buying signals (pricing, forms) after the ambient ones consistently.
export const ACTIVITY_TYPES = [
  'PAGE_VIEW',
  'PRICING_PAGE_VIEW',
  'CONTENT_DOWNLOAD',
  'WEBINAR_ATTENDED',
  'EMAIL_OPENED',
  'EMAIL_CLICKED',
  'FORM_SUBMITTED',
  // Sent by the browser tracker; it scores only under a rule set that gives it points.
  'FORM_VIEWED',
] as const;

export type ActivityType = (typeof ACTIVITY_TYPES)[number];

// The proto enum (leadmesh.intake.v1.ActivityType) prefixes every value; events carry that name.
const PROTO_PREFIX = 'ACTIVITY_TYPE_';

export function isActivityType(name: unknown): name is ActivityType {
  return typeof name === 'string' && (ACTIVITY_TYPES as readonly string[]).includes(name);
}

/** Accepts 'PRICING_PAGE_VIEW' and the proto enum name 'ACTIVITY_TYPE_PRICING_PAGE_VIEW'. */
export function toActivityType(name: string): ActivityType | undefined {
  const bare = name.startsWith(PROTO_PREFIX) ? name.slice(PROTO_PREFIX.length) : name;
  return isActivityType(bare) ? bare : undefined;
}

// Singular and plural nouns so explanations read "2 pricing page views", not "PRICING_PAGE_VIEW x2".
const NOUNS: Record<ActivityType, readonly [string, string]> = {
  PAGE_VIEW: ['page view', 'page views'],
  PRICING_PAGE_VIEW: ['pricing page view', 'pricing page views'],
  CONTENT_DOWNLOAD: ['content download', 'content downloads'],
  WEBINAR_ATTENDED: ['webinar attended', 'webinars attended'],
  EMAIL_OPENED: ['email opened', 'emails opened'],
  EMAIL_CLICKED: ['email click', 'email clicks'],
  FORM_SUBMITTED: ['form submission', 'form submissions'],
  FORM_VIEWED: ['form view', 'form views'],
};

export function activityNoun(type: ActivityType, count: number): string {
  return NOUNS[type][count === 1 ? 0 : 1];
}
