import { Inject, Injectable } from '@nestjs/common';
import { CrmAccountBook } from './crm-account-book.js';
import { crmAccountIndex, decideRoute, roundRobinClaim, type RouteDecision, type RoutingLead } from './domain/index.js';
import { OwnerDirectory, type Directory } from './owner-directory.js';
import { OwnerLoadStore } from './owner-load.store.js';
import { RoutingConfigRegistry } from './routing-config.registry.js';

export interface Decided {
  decision: RouteDecision;
  directory: Directory;
}

export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/** Decides with the directory and this replica's counters; `decideAndClaim` also takes the round-robin turn. */
@Injectable()
export class RouteDecider {
  // Decisions of one replica take their turns one after another: they would otherwise all see the same
  // counters, all pick the same owner and all but one lose the claim. Replicas still race each other,
  // which the unique key of each turn in the store settles.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(OwnerDirectory) private readonly directory: OwnerDirectory,
    @Inject(OwnerLoadStore) private readonly load: OwnerLoadStore,
    @Inject(RoutingConfigRegistry) private readonly registry: RoutingConfigRegistry,
    @Inject(CrmAccountBook) private readonly crmAccounts: CrmAccountBook,
  ) {}

  /** What routing would decide now, on counters read from the store (this replica's may lag others' turns). Claims nothing. */
  async preview(lead: RoutingLead, now: Date, excludeOwnerIds: readonly string[] = []): Promise<Decided> {
    const directory = await this.directory.current();
    return { decision: await this.decide(lead, directory, now, excludeOwnerIds, true).then((d) => d.decision), directory };
  }

  /** Decides and, for a rule decision, takes the owner's turn in the team's round robin. */
  decideAndClaim(lead: RoutingLead, now: Date, excludeOwnerIds: readonly string[] = []): Promise<Decided> {
    const run = this.queue.then(() => this.claimLoop(lead, now, excludeOwnerIds));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Counts a stored assignment against the owner's daily capacity; a rule decision's turn already counted it. */
  countAssignment(decision: RouteDecision, now: Date): void {
    if (decision.via === 'RULE') return;
    this.load.countAssignment(decision.ownerId, utcDay(now));
  }

  private async claimLoop(lead: RoutingLead, now: Date, excludeOwnerIds: readonly string[]): Promise<Decided> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const directory = await this.directory.current();
      const { decision, load } = await this.decide(lead, directory, now, excludeOwnerIds);
      const claim = roundRobinClaim(decision, load);
      if (!claim || (await this.load.claimTurn(claim, utcDay(now)))) return { decision, directory };
    }
    throw new Error('could not claim a round-robin turn: too much contention');
  }

  private async decide(lead: RoutingLead, directory: Directory, now: Date, excludeOwnerIds: readonly string[], fresh = false) {
    const { ruleSet, accountOwners } = this.registry.config;
    const load = await this.load.loads(directory.owners, utcDay(now), fresh);
    const crmAccounts = crmAccountIndex(await this.crmAccounts.current(), directory.owners);
    const decision = decideRoute(lead, { ruleSet, owners: directory.owners, teams: directory.teams, accountOwners, crmAccounts, load, now, excludeOwnerIds });
    return { decision, load };
  }
}
