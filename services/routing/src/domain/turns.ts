import { loadOf, type OwnerLoad } from './pool.js';
import type { RouteDecision } from './route.js';

/** The round-robin turn a decision takes: the store grants it only while the owner's count is still `seenTurns`. */
export interface RoundRobinClaim {
  teamId: string;
  ownerId: string;
  seenTurns: number;
}

/**
 * Only a rule decision takes a turn in the team's round robin. Account matches and the fallback do
 * not: they are not the pool's choice, and counting them would push their owner to the back of the
 * queue for leads they never competed for.
 */
export function roundRobinClaim(decision: RouteDecision, load: ReadonlyMap<string, OwnerLoad>): RoundRobinClaim | undefined {
  if (decision.via !== 'RULE') return undefined;
  return { teamId: decision.teamId, ownerId: decision.ownerId, seenTurns: loadOf(load, decision.ownerId).roundRobinTurns };
}
