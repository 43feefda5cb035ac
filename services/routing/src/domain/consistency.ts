import type { Owner, Team } from './owners.js';
import type { RoutingRuleSet } from './rules.js';
import { RoutingConfigError } from './validate.js';

/**
 * Cross-checks rules, owners and accounts, which live in separate files: every team a rule assigns
 * to exists, the fallback owner exists and is active, and every account owner exists.
 */
export function checkRoutingConsistency(config: {
  ruleSet: RoutingRuleSet;
  owners: readonly Owner[];
  teams: readonly Team[];
  accountOwners: ReadonlyMap<string, string>;
}): void {
  const teamIds = new Set(config.teams.map((t) => t.id));
  const owners = new Map(config.owners.map((o) => [o.id, o]));
  config.ruleSet.rules.forEach((rule, i) => {
    if (!teamIds.has(rule.assignTo.teamId)) {
      throw new RoutingConfigError(`rules[${i}].assignTo.teamId`, `team "${rule.assignTo.teamId}" is not defined among the teams`);
    }
  });
  const fallback = owners.get(config.ruleSet.fallbackOwnerId);
  if (!fallback) throw new RoutingConfigError('fallbackOwnerId', `owner "${config.ruleSet.fallbackOwnerId}" is not defined among the owners`);
  if (!fallback.active) throw new RoutingConfigError('fallbackOwnerId', `owner "${fallback.id}" is inactive`);
  for (const [domain, ownerId] of config.accountOwners) {
    if (!owners.has(ownerId)) throw new RoutingConfigError(`accounts[${domain}].ownerId`, `owner "${ownerId}" is not defined among the owners`);
  }
}
