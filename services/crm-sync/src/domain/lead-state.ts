// The lead as crm-sync knows it: built from the pipeline's events alone (events carry state), so
// crm-sync asks no other service before it writes the CRM. Pure: no I/O.

/** One part of a lead as an event delivered it, with the moment that part describes. */
export interface Stamped<T = Record<string, unknown>> {
  value: T;
  at: Date;
}

/**
 * What crm-sync has seen of a lead: each part is the newest one any event delivered. Events of one
 * lead arrive on different subjects and may be redelivered, so they come in any order; a part only
 * moves forward in time.
 */
export interface LeadState {
  /** When intake first received the lead: the first sync's latency and a CRM field measure from it. */
  receivedAt?: Date;
  profile?: Stamped;
  score?: Stamped;
  assignment?: Stamped;
  enrollment?: Stamped;
  /** The contact unsubscribed; an unsubscribe is for good (only intake can take a new opt-in). */
  unsubscribedAt?: Date;
}

const PARTS = ['profile', 'score', 'assignment', 'enrollment'] as const;

/**
 * Takes in what one event delivered. A part replaces the one held when it describes the same moment
 * or a later one, never an earlier one: a lead.scored redelivered after a rescore, or a lead.routed
 * carrying the score routing decided on while a newer score already arrived, leaves the newer part.
 * The lead's first reception and its unsubscribe keep the earliest time seen.
 */
export function mergeLeadState(current: LeadState | undefined, seen: LeadState): LeadState {
  const merged: LeadState = { ...current };
  for (const part of PARTS) {
    const incoming = seen[part];
    const held = merged[part];
    if (incoming && (!held || incoming.at.getTime() >= held.at.getTime())) merged[part] = incoming;
  }
  const receivedAt = earliest(merged.receivedAt, seen.receivedAt);
  if (receivedAt) merged.receivedAt = receivedAt;
  const unsubscribedAt = earliest(merged.unsubscribedAt, seen.unsubscribedAt);
  if (unsubscribedAt) merged.unsubscribedAt = unsubscribedAt;
  return merged;
}

/** Routing has assigned the lead: from then on the CRM holds it, and every change is an update. */
export function isRouted(state: LeadState | undefined): boolean {
  return state?.assignment !== undefined;
}

/** Nothing the event delivered is new, so there is nothing to store (nor to send). */
export function sameLeadState(a: LeadState | undefined, b: LeadState | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

/** Key order as stored may differ from key order as decoded; dates compare by instant. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
