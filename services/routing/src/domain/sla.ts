import type { Team } from './owners.js';

export interface SlaClock {
  assignedAt: Date;
  acceptedAt?: Date;
  slaDueAt: Date;
}

/** When the owner must have accepted the lead. Counted in wall-clock minutes from the assignment. */
export function slaDueAt(assignedAt: Date, team: Team): Date {
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
