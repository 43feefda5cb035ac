import { emailDomain, findAccountOwner, isFreeMailDomain } from './accounts.js';
import { findCrmAccount, type CrmAccountEntry } from './crm-accounts.js';
import { InvalidLeadError, type RoutingLead } from './lead.js';
import { isAvailable, type Owner, type Team } from './owners.js';
import { assessCandidate, loadOf, pickByWeightedRoundRobin, type Candidate, type OwnerLoad } from './pool.js';
import { matchRule, type RoutingRule, type RoutingRuleSet } from './rules.js';

export type { RoutingLead } from './lead.js';
export type { Candidate, OwnerLoad } from './pool.js';

export interface RouteContext {
  ruleSet: RoutingRuleSet;
  owners: readonly Owner[];
  teams: readonly Team[];
  /** Email domain of an owned account -> owner id, from the accounts file: only for domains no CRM account names. */
  accountOwners: ReadonlyMap<string, string>;
  /** Email domain -> the CRM account naming it (crmAccountIndex): matched before the file. */
  crmAccounts?: ReadonlyMap<string, CrmAccountEntry>;
  load: ReadonlyMap<string, OwnerLoad>;
  now: Date;
  /** Owners who must not get the lead this time, e.g. the one who let the SLA lapse. */
  excludeOwnerIds?: readonly string[];
}

export type RouteVia = 'ACCOUNT' | 'RULE' | 'FALLBACK';

export interface RouteDecision {
  ownerId: string;
  teamId: string;
  /** 'account-match', the matching rule's id, or 'fallback'. */
  ruleId: string;
  via: RouteVia;
  /** The rule set the decision was taken under, for the audit record. */
  ruleSetVersion: string;
  /** Plain sentences for sales ops: what matched, why, who was skipped and why. */
  reason: string;
  candidates: Candidate[];
}

const byId = (a: Owner, b: Owner) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sentence = (parts: ReadonlyArray<string | undefined>) => parts.filter(Boolean).join(' ');

function validateLead(lead: RoutingLead): string {
  const domain = emailDomain(lead.email ?? '');
  // Not the value: the message travels into spans, logs and a parked event's headers, which hold no personal data.
  if (!domain) throw new InvalidLeadError('lead.email', 'is not an email address (no domain)');
  if (lead.companySize !== undefined && !(Number.isFinite(lead.companySize) && lead.companySize >= 0)) {
    throw new InvalidLeadError('lead.companySize', `expected a non-negative number, got ${lead.companySize}`);
  }
  return domain;
}

/**
 * Decides who owns a lead: the owner of the lead's account if there is one, else the first matching
 * rule's team by weighted round robin, else the fallback owner. Pure and deterministic given `load`.
 *
 * The account owner wins even while out of office, outside working hours or over their daily cap:
 * the relationship belongs to them, and a lead they do not accept in time is moved by the SLA
 * re-route (which passes them in `excludeOwnerIds`). Only an inactive or excluded account owner hands
 * the lead over to the rules.
 */
export function decideRoute(lead: RoutingLead, ctx: RouteContext): RouteDecision {
  const domain = validateLead(lead);
  const ownersById = new Map(ctx.owners.map((o) => [o.id, o]));
  const excluded = new Set(ctx.excludeOwnerIds ?? []);
  const base = { ruleSetVersion: ctx.ruleSet.version };

  let accountNote: string;
  const freeMail = isFreeMailDomain(domain, ctx.ruleSet.freeMailDomains);
  // The CRM's accounts first; the file only for a domain no CRM account names.
  const crmAccount = freeMail ? undefined : findCrmAccount(domain, ctx.crmAccounts ?? new Map());
  const account = freeMail ? undefined : crmAccount ?? findAccountOwner(domain, ctx.accountOwners);
  const accountOwner = account && ownersById.get(account.ownerId);
  const accountLabel = crmAccount ? `${crmAccount.domain} (${crmAccount.crm} account "${crmAccount.name}")` : account?.domain;
  if (freeMail) {
    accountNote = `No account match: ${domain} is a free-mail domain, which never identifies an account.`;
  } else if (!account) {
    accountNote = `No account owns ${domain}.`;
  } else if (crmAccount && !crmAccount.ownerId) {
    accountNote = `The account ${accountLabel} is owned by ${crmAccount.crm} user ${crmAccount.crmOwnerId || '(none)'}, whom no owner carries as CRM user id, so the routing rules decide.`;
  } else if (!accountOwner) {
    accountNote = `The account ${accountLabel} names owner "${account.ownerId}", who is not a known owner, so the routing rules decide.`;
  } else if (excluded.has(accountOwner.id)) {
    accountNote = `The account owner of ${accountLabel}, ${accountOwner.name}, is excluded from this routing (already had the lead), so the routing rules decide.`;
  } else if (!accountOwner.active) {
    accountNote = `The account owner of ${accountLabel}, ${accountOwner.name}, is inactive, so the routing rules decide.`;
  } else {
    const availability = isAvailable(accountOwner, ctx.now);
    const away = availability.available
      ? undefined
      : `${availability.reason}; the account owner keeps the lead anyway, and the SLA re-route moves it if it is not accepted in time.`;
    return {
      ...base,
      ownerId: accountOwner.id,
      teamId: accountOwner.teamId,
      ruleId: 'account-match',
      via: 'ACCOUNT',
      reason: sentence([
        `Account match: the email domain ${domain} belongs to the account ${accountLabel}, owned by ${accountOwner.name}, and account owners get their accounts' leads before any routing rule applies.`,
        away,
      ]),
      candidates: [{ ownerId: accountOwner.id, eligible: true, reason: sentence([`${accountOwner.name} owns the account ${accountLabel}`, away && `(${availability.reason})`]) }],
    };
  }

  const fallback = (why: string, candidates: Candidate[]): RouteDecision => {
    const owner = ownersById.get(ctx.ruleSet.fallbackOwnerId);
    if (!owner) throw new Error(`ruleSet.fallbackOwnerId: owner "${ctx.ruleSet.fallbackOwnerId}" is not among the known owners`);
    const availability = isAvailable(owner, ctx.now);
    return {
      ...base,
      ownerId: owner.id,
      teamId: owner.teamId,
      ruleId: 'fallback',
      via: 'FALLBACK',
      reason: sentence([
        accountNote,
        why,
        `The lead goes to the fallback owner ${owner.name}.`,
        availability.available ? undefined : `${availability.reason}, but the fallback owner takes every lead nobody else can.`,
      ]),
      candidates,
    };
  };

  const misses: string[] = [];
  for (const rule of ctx.ruleSet.rules) {
    const outcome = matchRule(rule, lead);
    if (!outcome.matched) {
      misses.push(`'${rule.id}' (${outcome.because})`);
      continue;
    }
    const earlier = misses.length ? `Earlier rules did not match: ${misses.join('; ')}.` : undefined;
    const matched = `Rule '${rule.id}' (${rule.description}) matched because ${outcome.because.join(', ')}.`;
    return routeInTeam(rule, sentence([earlier, matched]));
  }
  return fallback(
    ctx.ruleSet.rules.length ? `No routing rule matched: ${misses.join('; ')}.` : 'The rule set has no rules.',
    [],
  );

  function routeInTeam(rule: RoutingRule, ruleText: string): RouteDecision {
    const team = ctx.teams.find((t) => t.id === rule.assignTo.teamId);
    const teamName = team ? `${team.name} (${team.id})` : rule.assignTo.teamId;
    const members = ctx.owners.filter((o) => o.teamId === rule.assignTo.teamId).sort(byId);
    const candidates = members.map((o) => assessCandidate(o, lead, { load: ctx.load, now: ctx.now, excluded }));
    const eligible = members.filter((_, i) => candidates[i]?.eligible);
    const skipped = candidates.filter((c) => !c.eligible).map((c) => c.reason);
    const chosen = pickByWeightedRoundRobin(eligible, ctx.load);
    if (!chosen) {
      const nobody = members.length
        ? `Nobody in team ${teamName} can take the lead: ${skipped.join('; ')}.`
        : `Team ${teamName} has no owners.`;
      return fallback(sentence([ruleText, nobody]), candidates);
    }
    const load = loadOf(ctx.load, chosen.id);
    return {
      ...base,
      ownerId: chosen.id,
      teamId: rule.assignTo.teamId,
      ruleId: rule.id,
      via: 'RULE',
      reason: sentence([
        accountNote,
        ruleText,
        eligible.length === 1
          ? `${chosen.name} was picked as the only eligible owner in team ${teamName} (weight ${chosen.weight}, ${load.roundRobinTurns} round-robin turns so far).`
          : `${chosen.name} was picked by weighted round robin in team ${teamName}: weight ${chosen.weight} with ${load.roundRobinTurns} round-robin turns so far is the lowest load for their weight among ${eligible.length} eligible owners.`,
        skipped.length ? `Skipped: ${skipped.join('; ')}.` : undefined,
      ]),
      candidates,
    };
  }
}
