import { FIT_BOUNDS_RULE_ID } from './rule-ids.js';
import type { FitRules, KeywordRule } from './rule-set.js';
import { clampWithReason, reason, type LeadProfile, type ScoreReason } from './score.js';
import { containsWords, normalizeWords } from './text.js';

export interface FitScore {
  score: number;
  reasons: ScoreReason[];
}

/** Scores who the lead is: job title, company, industry, country and mailbox. */
export function scoreFit(profile: LeadProfile, rules: FitRules): FitScore {
  const reasons: ScoreReason[] = [];
  const awardFit = (ruleId: string, points: number, sentence: string) => {
    if (points !== 0) reasons.push(reason(ruleId, 'FIT', points, sentence));
  };

  const title = profile.jobTitle?.trim();
  if (title) {
    const seniority = bestKeywordMatch(title, rules.seniority);
    if (seniority) awardFit(seniority.id, seniority.points, `Job title '${title}' matches seniority '${seniority.label}'`);
    const role = bestKeywordMatch(title, rules.function);
    if (role) awardFit(role.id, role.points, `Job title '${title}' matches function '${role.label}'`);
  }

  const size = profile.companySize;
  if (size !== undefined && size > 0) {
    const band = rules.companySize.find((b) => size >= b.min && size <= (b.max ?? Number.POSITIVE_INFINITY));
    if (band) awardFit(band.id, band.points, `Company size of ${size} employees is in the band '${band.label}'`);
  }

  const industry = profile.industry?.trim();
  if (industry) {
    const key = normalizeWords(industry);
    const rule = rules.industries.find((r) => r.industries.some((name) => normalizeWords(name) === key));
    if (rule) awardFit(rule.id, rule.points, `Industry '${industry}' counts as '${rule.label}'`);
  }

  const country = profile.country?.trim().toUpperCase();
  if (country) {
    const rule = rules.countries.find((r) => r.countries.includes(country));
    if (rule) awardFit(rule.id, rule.points, `Country '${country}' is in the region '${rule.label}'`);
  }

  const domain = emailDomain(profile.email);
  if (domain && rules.freeMail.domains.includes(domain)) {
    awardFit(rules.freeMail.id, rules.freeMail.points, `Email domain '${domain}' is a free-mail provider, not a company domain`);
  }

  const score = clampWithReason(reasons, FIT_BOUNDS_RULE_ID, 'FIT', 'Fit score');
  return { score, reasons };
}

/** The rule with the most specific (longest) matching keyword; on a tie the rule listed first. */
function bestKeywordMatch(title: string, rules: readonly KeywordRule[]): KeywordRule | undefined {
  const words = normalizeWords(title);
  let best: { rule: KeywordRule; length: number } | undefined;
  for (const rule of rules) {
    for (const keyword of rule.keywords) {
      const normalized = normalizeWords(keyword);
      if (containsWords(words, normalized) && normalized.length > (best?.length ?? 0)) {
        best = { rule, length: normalized.length };
      }
    }
  }
  return best?.rule;
}

function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  return at < 0 ? undefined : email.slice(at + 1).trim().toLowerCase();
}
