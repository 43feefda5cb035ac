import type { RoutingLead } from './lead.js';
import { sameText } from './lead.js';
import { isAvailable, type Owner } from './owners.js';
import { territoryCovers } from './regions.js';

export interface OwnerLoad {
  /** Every lead the owner got today, however it reached them: the daily capacity counts them all. */
  assignedToday: number;
  /**
   * Turns the owner took in their team's round robin. Only rule decisions count: an account match or
   * a fallback is not a turn, and counting it would starve an owner with big accounts of pool leads.
   */
  roundRobinTurns: number;
}

export interface Candidate {
  ownerId: string;
  eligible: boolean;
  reason: string;
}

export const loadOf = (load: ReadonlyMap<string, OwnerLoad>, ownerId: string): OwnerLoad =>
  load.get(ownerId) ?? { assignedToday: 0, roundRobinTurns: 0 };

/**
 * Whether the lead lies in the owner's territory and segments. A lead attribute that is unknown
 * does not disqualify: missing enrichment should not push a lead out of a team that matched it.
 */
export function ownerFitsLead(owner: Owner, lead: RoutingLead): { fits: boolean; reason: string } {
  const no = (reason: string) => ({ fits: false, reason: `${owner.name} ${reason}` });
  if (lead.country && owner.territories.length > 0 && !owner.territories.some((t) => territoryCovers(t, lead.country!))) {
    return no(`covers ${owner.territories.join(', ')}, not country ${lead.country.toUpperCase()}`);
  }
  const s = owner.segments;
  if (s && lead.companySize !== undefined) {
    if (s.minCompanySize !== undefined && lead.companySize < s.minCompanySize) {
      return no(`takes companies of at least ${s.minCompanySize} employees, not ${lead.companySize}`);
    }
    if (s.maxCompanySize !== undefined && lead.companySize > s.maxCompanySize) {
      return no(`takes companies of at most ${s.maxCompanySize} employees, not ${lead.companySize}`);
    }
  }
  if (s?.industries && lead.industry && !s.industries.some((i) => sameText(i, lead.industry!))) {
    return no(`covers the industries ${s.industries.join(', ')}, not ${lead.industry}`);
  }
  if (s?.products && lead.product && !s.products.some((p) => sameText(p, lead.product!))) {
    return no(`covers the products ${s.products.join(', ')}, not ${lead.product}`);
  }
  return { fits: true, reason: `${owner.name} covers this lead` };
}

export interface PoolContext {
  load: ReadonlyMap<string, OwnerLoad>;
  now: Date;
  excluded: ReadonlySet<string>;
}

/** Why an owner of the matched team can or cannot take this lead in the round robin. */
export function assessCandidate(owner: Owner, lead: RoutingLead, ctx: PoolContext): Candidate {
  const result = (eligible: boolean, reason: string): Candidate => ({ ownerId: owner.id, eligible, reason });
  if (ctx.excluded.has(owner.id)) return result(false, `${owner.name} is excluded from this routing (already had the lead)`);
  const availability = isAvailable(owner, ctx.now);
  if (!availability.available) return result(false, availability.reason);
  const load = loadOf(ctx.load, owner.id);
  if (load.assignedToday >= owner.capacityPerDay) {
    return result(false, `${owner.name} has reached the daily cap of ${owner.capacityPerDay} leads`);
  }
  const fit = ownerFitsLead(owner, lead);
  if (!fit.fits) return result(false, fit.reason);
  return result(
    true,
    `${owner.name} is eligible (weight ${owner.weight}, ${load.roundRobinTurns} round-robin turns so far, ${load.assignedToday} of ${owner.capacityPerDay} today)`,
  );
}

/**
 * Weighted round robin without a cursor: the owner whose next lead would leave them least loaded
 * relative to their weight, (roundRobinTurns + 1) / weight, ties broken by id. Being a pure function of
 * the counters is what lets several replicas share one pool: the store claims the pick's next turn
 * (one unique insert) and, when another replica took it first, learns the owner's count and asks again.
 */
export function pickByWeightedRoundRobin(owners: readonly Owner[], load: ReadonlyMap<string, OwnerLoad>): Owner | undefined {
  let best: Owner | undefined;
  for (const owner of owners) {
    if (!best) {
      best = owner;
      continue;
    }
    // Cross-multiplied to compare (a+1)/wa with (b+1)/wb without dividing.
    const mine = (loadOf(load, owner.id).roundRobinTurns + 1) * best.weight;
    const theirs = (loadOf(load, best.id).roundRobinTurns + 1) * owner.weight;
    if (mine < theirs || (mine === theirs && owner.id < best.id)) best = owner;
  }
  return best;
}
