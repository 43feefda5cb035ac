import { LIFECYCLE_STAGES, sameText, type LifecycleStage, type RoutingLead } from './lead.js';
import { REGIONS, isCountryCode, isRegionName, territoryCovers } from './regions.js';
import {
  RoutingConfigError,
  assertUnique,
  optional,
  readList,
  readNumber,
  readObject,
  readString,
  readStringList,
} from './validate.js';

export interface RuleMatch {
  /** 'A1' matches exactly; a letter alone ('A') matches every grade of that letter. */
  grades?: string[];
  stages?: LifecycleStage[];
  /** Countries and regions together form one territory test: the lead's country must be in either. */
  countries?: string[];
  regions?: string[];
  products?: string[];
  /** Form id or utm source. */
  sources?: string[];
  minCompanySize?: number;
}

export interface RoutingRule {
  id: string;
  description: string;
  /** Every criterion given must hold; an empty match catches every lead. */
  match: RuleMatch;
  assignTo: { teamId: string };
}

export interface RoutingRuleSet {
  version: string;
  /** Ordered: the first rule that matches decides the team. */
  rules: RoutingRule[];
  fallbackOwnerId: string;
  /** Added to the built-in free-mail list. */
  freeMailDomains?: string[];
}

/** Rule ids that name the other ways a decision can be made, so a rule may not take them. */
export const RESERVED_RULE_IDS = ['account-match', 'fallback'] as const;

export type RuleOutcome = { matched: true; because: string[] } | { matched: false; because: string };

const list = (values: readonly string[]): string => values.join(', ');

type Check = { ok: true; why: string } | { ok: false; why: string };

function checkGrade(grades: readonly string[], grade: string | undefined): Check {
  if (!grade) return { ok: false, why: 'the lead has no grade yet' };
  const g = grade.trim().toUpperCase();
  const hit = grades.find((want) => (want.length === 1 ? g.startsWith(want) : g === want));
  return hit ? { ok: true, why: `grade ${g} matches ${hit}` } : { ok: false, why: `grade ${g} is not one of ${list(grades)}` };
}

function checkTerritory(countries: readonly string[], regions: readonly string[], country: string | undefined): Check {
  const wanted = [...countries, ...regions.map((r) => `region ${r}`)];
  if (!country) return { ok: false, why: `the lead's country is unknown (rule needs ${list(wanted)})` };
  const c = country.trim().toUpperCase();
  if (countries.includes(c)) return { ok: true, why: `country ${c} is listed` };
  const region = regions.find((r) => territoryCovers(r, c));
  return region ? { ok: true, why: `country ${c} is in region ${region}` } : { ok: false, why: `country ${c} is not in ${list(wanted)}` };
}

function checkListed(label: string, wanted: readonly string[], value: string | undefined): Check {
  if (!value) return { ok: false, why: `the lead has no ${label}` };
  return wanted.some((w) => sameText(w, value))
    ? { ok: true, why: `${label} "${value}" is listed` }
    : { ok: false, why: `${label} "${value}" is not one of ${list(wanted)}` };
}

function checkSource(sources: readonly string[], lead: RoutingLead): Check {
  const seen = [lead.formId && `form "${lead.formId}"`, lead.utmSource && `utm source "${lead.utmSource}"`].filter(Boolean);
  if (lead.formId && sources.some((s) => sameText(s, lead.formId!))) return { ok: true, why: `form "${lead.formId}" is a listed source` };
  if (lead.utmSource && sources.some((s) => sameText(s, lead.utmSource!))) return { ok: true, why: `utm source "${lead.utmSource}" is a listed source` };
  if (seen.length === 0) return { ok: false, why: 'the lead has no form id or utm source' };
  return { ok: false, why: `${seen.join(' and ')} ${seen.length > 1 ? 'are' : 'is'} not one of ${list(sources)}` };
}

function checkSize(min: number, size: number | undefined): Check {
  if (size === undefined) return { ok: false, why: `company size is unknown (rule needs at least ${min})` };
  return size >= min ? { ok: true, why: `company size ${size} is at least ${min}` } : { ok: false, why: `company size ${size} is below ${min}` };
}

/** Whether a rule matches a lead; on a miss, the first criterion that failed. */
export function matchRule(rule: RoutingRule, lead: RoutingLead): RuleOutcome {
  const m = rule.match;
  const checks: Array<() => Check> = [];
  if (m.grades) checks.push(() => checkGrade(m.grades!, lead.grade));
  if (m.stages) {
    const stages = m.stages;
    checks.push(() =>
      !lead.stage
        ? { ok: false, why: 'the lead has no lifecycle stage' }
        : stages.includes(lead.stage)
          ? { ok: true, why: `stage ${lead.stage} is listed` }
          : { ok: false, why: `stage ${lead.stage} is not ${list(stages)}` },
    );
  }
  if (m.countries || m.regions) checks.push(() => checkTerritory(m.countries ?? [], m.regions ?? [], lead.country));
  if (m.products) checks.push(() => checkListed('product interest', m.products!, lead.product));
  if (m.sources) checks.push(() => checkSource(m.sources!, lead));
  if (m.minCompanySize !== undefined) checks.push(() => checkSize(m.minCompanySize!, lead.companySize));
  const because: string[] = [];
  for (const check of checks) {
    const c = check();
    if (!c.ok) return { matched: false, because: c.why };
    because.push(c.why);
  }
  return { matched: true, because: because.length ? because : ['it matches every lead'] };
}

function parseMatch(value: unknown, path: string): RuleMatch {
  const o = readObject(value ?? {}, path, ['grades', 'stages', 'countries', 'regions', 'products', 'sources', 'minCompanySize']);
  const strings = (key: string) => optional(o[key], (v) => readStringList(v, `${path}.${key}`, { nonEmpty: true }));
  const match: RuleMatch = {};
  const grades = strings('grades')?.map((g) => g.toUpperCase());
  grades?.forEach((g, i) => {
    if (!/^[A-Z]\d*$/.test(g)) throw new RoutingConfigError(`${path}.grades[${i}]`, `"${g}" is not a grade (e.g. A1, or A for every A grade)`);
  });
  const stages = strings('stages')?.map((s, i) => {
    const stage = s.toUpperCase() as LifecycleStage;
    if (!LIFECYCLE_STAGES.includes(stage)) throw new RoutingConfigError(`${path}.stages[${i}]`, `"${s}" is not one of ${list(LIFECYCLE_STAGES)}`);
    return stage;
  });
  const countries = strings('countries')?.map((c, i) => {
    const code = c.toUpperCase();
    if (!isCountryCode(code)) throw new RoutingConfigError(`${path}.countries[${i}]`, `"${c}" is not an ISO 3166-1 alpha-2 country code`);
    return code;
  });
  const regions = strings('regions')?.map((r, i) => {
    if (!isRegionName(r)) throw new RoutingConfigError(`${path}.regions[${i}]`, `"${r}" is not a region (${list(Object.keys(REGIONS))})`);
    return r.toUpperCase();
  });
  const products = strings('products');
  const sources = strings('sources');
  const minCompanySize = optional(o.minCompanySize, (v) => readNumber(v, `${path}.minCompanySize`, { integer: true, min: 0 }));
  if (grades) match.grades = grades;
  if (stages) match.stages = stages;
  if (countries) match.countries = countries;
  if (regions) match.regions = regions;
  if (products) match.products = products;
  if (sources) match.sources = sources;
  if (minCompanySize !== undefined) match.minCompanySize = minCompanySize;
  return match;
}

function parseRule(value: unknown, path: string): RoutingRule {
  const o = readObject(value, path, ['id', 'description', 'match', 'assignTo']);
  const id = readString(o.id, `${path}.id`);
  if ((RESERVED_RULE_IDS as readonly string[]).includes(id)) throw new RoutingConfigError(`${path}.id`, `"${id}" is reserved`);
  const assignTo = readObject(o.assignTo, `${path}.assignTo`, ['teamId']);
  return {
    id,
    description: readString(o.description, `${path}.description`),
    match: parseMatch(o.match, `${path}.match`),
    assignTo: { teamId: readString(assignTo.teamId, `${path}.assignTo.teamId`) },
  };
}

/** Validates a routing rule set; errors name the path of the bad value, e.g. `rules[2].match.stages[0]`. */
export function parseRoutingConfig(raw: unknown): RoutingRuleSet {
  const o = readObject(raw, 'routing config', ['version', 'rules', 'fallbackOwnerId', 'freeMailDomains']);
  const rules = readList(o.rules, 'rules').map((r, i) => parseRule(r, `rules[${i}]`));
  assertUnique(rules.map((r) => r.id), (i) => `rules[${i}].id`, 'rule id');
  const ruleSet: RoutingRuleSet = {
    version: readString(o.version, 'version'),
    rules,
    fallbackOwnerId: readString(o.fallbackOwnerId, 'fallbackOwnerId'),
  };
  const freeMail = optional(o.freeMailDomains, (v) => readStringList(v, 'freeMailDomains'));
  if (freeMail) ruleSet.freeMailDomains = freeMail.map((d) => d.toLowerCase());
  return ruleSet;
}
