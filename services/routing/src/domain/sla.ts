import type { Team } from './owners.js';

export interface SlaClock {
  assignedAt: Date;
  acceptedAt?: Date;
  slaDueAt: Date;
}

/**
 * When the owner must have accepted the lead, in wall-clock time from the assignment. An override in
 * seconds replaces every team's SLA, so drills and tests can run the clock fast.
 */
export function slaDueAt(assignedAt: Date, team: Team, overrideSeconds?: number): Date {
  if (overrideSeconds !== undefined) {
    if (!(overrideSeconds > 0)) throw new Error(`slaOverrideSeconds: must be positive, got ${overrideSeconds}`);
    return new Date(assignedAt.getTime() + overrideSeconds * 1000);
  }
  if (!(team.slaMinutes > 0)) throw new Error(`team.slaMinutes: team "${team.id}" must have a positive SLA, got ${team.slaMinutes}`);
  return new Date(assignedAt.getTime() + team.slaMinutes * 60_000);
}

/**
 * Whether the SLA was missed: not accepted by the due time, or accepted only after it. A late
 * acceptance still counts as a breach for reporting, but no longer calls for a re-route.
 */
export function isSlaBreached(assignment: SlaClock, now: Date): boolean {
  const due = assignment.slaDueAt.getTime();
  return assignment.acceptedAt ? assignment.acceptedAt.getTime() > due : now.getTime() >= due;
}

/** Whether the lead must move to the next owner now: due time passed and nobody accepted it. */
export function needsSlaReroute(assignment: SlaClock, now: Date): boolean {
  return !assignment.acceptedAt && now.getTime() >= assignment.slaDueAt.getTime();
}

/** Where a lead stands for the SLA re-route: who has it now, and who had it before. */
export interface SlaState extends SlaClock {
  ownerId: string;
  /** Owners who let the SLA lapse before, oldest first. */
  previousOwnerIds: readonly string[];
}

/** Owners a re-route must pass over: the current owner and everyone who already let the lead lapse. */
export function rerouteExclusions(state: SlaState): string[] {
  return [...new Set([...state.previousOwnerIds, state.ownerId])];
}

export type ReroutePlan = { reroute: true; previousOwnerIds: string[] } | { reroute: false; why: string };

/**
 * Whether the lead moves to `nextOwnerId` now. It stays put when it was accepted, is not due, or
 * nobody new can take it (the routing came back to someone who already had it, such as the fallback
 * owner): handing it back and forth would only reset the clock without anyone working the lead.
 */
export function planSlaReroute(state: SlaState, nextOwnerId: string, now: Date): ReroutePlan {
  if (state.acceptedAt) return { reroute: false, why: `accepted at ${state.acceptedAt.toISOString()}` };
  if (!needsSlaReroute(state, now)) return { reroute: false, why: `not due until ${state.slaDueAt.toISOString()}` };
  if (rerouteExclusions(state).includes(nextOwnerId)) {
    return { reroute: false, why: `no other owner can take the lead (routing chose ${nextOwnerId}, who already had it)` };
  }
  return { reroute: true, previousOwnerIds: [...state.previousOwnerIds, state.ownerId] };
}
