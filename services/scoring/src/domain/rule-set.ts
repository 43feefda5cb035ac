import type { ActivityType } from './activity-type.js';
import { DocumentReader } from './document-reader.js';
import { IdRegistry } from './rule-ids.js';
import { readEngagementRules } from './rule-set-engagement.js';
import { readFitRules } from './rule-set-fit.js';
import { readGrades, readMqlRule } from './rule-set-grades.js';

/** A job-title rule: the most specific (longest) matching keyword across all rules of a kind wins. */
export interface KeywordRule {
  id: string;
  label: string;
  keywords: string[];
  points: number;
}

/** Employee-count band, inclusive on both ends; `max` absent means "and above". */
export interface CompanySizeBand {
  id: string;
  label: string;
  min: number;
  max?: number;
  points: number;
}

export interface IndustryRule {
  id: string;
  label: string;
  industries: string[];
  points: number;
}

/** Countries are ISO 3166-1 alpha-2 codes, the form intake normalises them to. */
export interface CountryRule {
  id: string;
  label: string;
  countries: string[];
  points: number;
}

/** A penalty (zero or negative points) for personal mailboxes, which rarely mean a buying company. */
export interface FreeMailRule {
  id: string;
  points: number;
  domains: string[];
}

export interface FitRules {
  seniority: KeywordRule[];
  function: KeywordRule[];
  companySize: CompanySizeBand[];
  industries: IndustryRule[];
  countries: CountryRule[];
  freeMail: FreeMailRule;
}

/** Points per activity of one type; `maxPoints` caps what that type can add in total. */
export interface ActivityRule {
  id: string;
  points: number;
  maxPoints?: number;
}

/**
 * An activity at most `withinDays` old earns `percent` of its points. Windows are ordered from the
 * most recent, their percentages never rise with age, and activity older than the last window
 * earns nothing.
 */
export interface RecencyWindow {
  withinDays: number;
  percent: number;
}

/** The whole engagement score halves for every full `halvesEveryDays` since the latest activity. */
export interface EngagementDecay {
  id: string;
  halvesEveryDays: number;
}

export interface EngagementRules {
  /** An activity type the rule set does not list is worth nothing and does not hold off decay. */
  activities: Partial<Record<ActivityType, ActivityRule>>;
  recency: RecencyWindow[];
  decay: EngagementDecay;
}

export type FitGrade = 'A' | 'B' | 'C' | 'D';
export type EngagementGrade = '1' | '2' | '3' | '4';

/** Minimum scores for each grade; D and 4 are everything below C and 3. */
export interface GradeBoundaries {
  fit: { A: number; B: number; C: number };
  engagement: { '1': number; '2': number; '3': number };
}

/** A lead is an MQL when its fit grade AND its engagement grade are both at least these. */
export interface MqlRule {
  minFitGrade: FitGrade;
  minEngagementGrade: EngagementGrade;
}

export interface RuleSet {
  version: string;
  description: string;
  fit: FitRules;
  engagement: EngagementRules;
  grades: GradeBoundaries;
  mql: MqlRule;
}

export { ENGAGEMENT_BOUNDS_RULE_ID, FIT_BOUNDS_RULE_ID } from './rule-ids.js';

export class RuleSetError extends Error {
  constructor(
    readonly issues: readonly string[],
    readonly source?: string,
  ) {
    super(`Invalid rule set${source ? ` ${source}` : ''}: ${issues.join('; ')}`);
    this.name = 'RuleSetError';
  }
}

// Date plus a same-day sequence number, so versions sort in publication order and read as dates.
const VERSION = /^(\d{4})-(\d{2})-(\d{2})\.([1-9]\d{0,3})$/;

/** Validates a parsed rule-set document; throws a RuleSetError listing every bad path. */
export function parseRuleSet(raw: unknown, source?: string): RuleSet {
  const reader = new DocumentReader();
  const doc = reader.object(raw, '(document)', ['version', 'description', 'fit', 'engagement', 'grades', 'mql']);
  if (!doc) throw new RuleSetError(reader.issues, source);

  const version = readVersion(reader, doc.version);
  const description = reader.string(doc.description, 'description');
  const ids = new IdRegistry(reader);
  const fit = readFitRules(reader, doc.fit, ids);
  const engagement = readEngagementRules(reader, doc.engagement, ids);
  const grades = readGrades(reader, doc.grades);
  const mql = readMqlRule(reader, doc.mql);

  if (reader.issues.length > 0 || !version || !description || !fit || !engagement || !grades || !mql) {
    throw new RuleSetError(reader.issues, source);
  }
  return { version, description: description.trim(), fit, engagement, grades, mql };
}

function readVersion(reader: DocumentReader, value: unknown): string | undefined {
  const version = reader.string(value, 'version', {
    regex: VERSION,
    description: 'a date and a sequence number like "2026-11-01.1"',
  });
  if (!version) return undefined;
  const [, y, m, d] = VERSION.exec(version) ?? [];
  const date = new Date(`${y}-${m}-${d}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== `${y}-${m}-${d}`) {
    return reader.fail('version', `must start with a real calendar date, got "${version}"`);
  }
  return version;
}

/** Orders versions by date, then by sequence number (so ".10" comes after ".9"). */
export function compareRuleSetVersions(a: string, b: string): number {
  const [dateA = a, seqA = '0'] = a.split('.');
  const [dateB = b, seqB = '0'] = b.split('.');
  if (dateA !== dateB) return dateA < dateB ? -1 : 1;
  return Number(seqA) - Number(seqB);
}
