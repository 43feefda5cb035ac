import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { compareRuleSetVersions, parseRuleSet, RuleSetError } from './rule-set.js';

// The shipped initial rule set is the realistic valid document; each case breaks one thing in a copy.
const shipped = parse(readFileSync(new URL('../../rules/2026-11-01.1.yaml', import.meta.url), 'utf8')) as unknown;

// Loosely typed on purpose: the cases write arbitrary bad values into the document.
type Doc = Record<string, any>;

function issuesAfter(change: (doc: Doc) => void): readonly string[] {
  const doc = structuredClone(shipped) as Doc;
  change(doc);
  try {
    parseRuleSet(doc);
  } catch (error) {
    if (error instanceof RuleSetError) return error.issues;
    throw error;
  }
  throw new Error('expected the rule set to be rejected');
}

describe('parseRuleSet', () => {
  it('accepts the shipped rule set', () => {
    const ruleSet = parseRuleSet(shipped);
    expect(ruleSet.version).toBe('2026-11-01.1');
    expect(ruleSet.engagement.activities.PRICING_PAGE_VIEW).toEqual({ id: 'engagement.activity.pricing-page-view', points: 15, maxPoints: 45 });
    expect(ruleSet.grades).toEqual({ fit: { A: 70, B: 50, C: 30 }, engagement: { '1': 60, '2': 35, '3': 15 } });
    expect(ruleSet.mql).toEqual({ minFitGrade: 'B', minEngagementGrade: '2' });
  });

  it.each<[string, (doc: Doc) => void, string]>([
    ['a fractional points value', (d) => (d.fit.seniority[3].points = 1.5), 'fit.seniority[3].points: must be an integer'],
    ['points out of range', (d) => (d.fit.industries[0].points = 150), 'fit.industries[0].points: must be between -100 and 100'],
    ['a version that is not a date', (d) => (d.version = 'v1'), 'version: must be a date and a sequence number like "2026-11-01.1"'],
    ['an impossible date', (d) => (d.version = '2026-02-30.1'), 'version: must start with a real calendar date, got "2026-02-30.1"'],
    ['a missing description', (d) => delete d.description, 'description: must be a non-empty string'],
    ['a misspelt field', (d) => (d.engagement.decay.halfLife = 3), 'engagement.decay.halfLife: unknown field'],
    ['an id used twice', (d) => (d.fit.function[0].id = 'fit.seniority.vp'), 'fit.function[0].id: duplicates the id at fit.seniority[1].id'],
    ['a reserved id', (d) => (d.engagement.decay.id = 'engagement.bounds'), 'engagement.decay.id: "engagement.bounds" is reserved for score clamping'],
    ['a malformed id', (d) => (d.fit.seniority[0].id = 'C Level'), 'fit.seniority[0].id: must be a dotted lower-case id like "fit.seniority.vp"'],
    ['a keyword in two rules', (d) => d.fit.seniority[1].keywords.push('Chief'), 'fit.seniority[1].keywords[6]: keyword "chief" is already used at fit.seniority[0].keywords[9]'],
    ['a keyword without letters', (d) => (d.fit.function[0].keywords[0] = '&'), 'fit.function[0].keywords[0]: must contain a letter or digit'],
    ['an empty keyword list', (d) => (d.fit.function[0].keywords = []), 'fit.function[0].keywords: must have at least 1 item(s)'],
    ['overlapping size bands', (d) => (d.fit.companySize[1].max = 60), 'fit.companySize[2]: overlaps the band at fit.companySize[1]'],
    ['a size band ending before it starts', (d) => (d.fit.companySize[1].max = 5), 'fit.companySize[1].max: must be between 11 and 10000000'],
    ['an industry in two rules', (d) => d.fit.industries[1].industries.push('saas'), 'fit.industries[1].industries[4]: industry "saas" is already used at fit.industries[0].industries[3]'],
    ['a country name instead of a code', (d) => (d.fit.countries[1].countries[3] = 'Germany'), 'fit.countries[1].countries[3]: must be an ISO 3166-1 alpha-2 code in capitals like "DE"'],
    ['a country in two regions', (d) => d.fit.countries[2].countries.push('US'), 'fit.countries[2].countries[2]: country "US" is already used at fit.countries[0].countries[0]'],
    ['a free-mail bonus', (d) => (d.fit.freeMail.points = 5), 'fit.freeMail.points: must be between -100 and 0'],
    ['a free-mail address instead of a domain', (d) => (d.fit.freeMail.domains[0] = '@gmail.com'), 'fit.freeMail.domains[0]: must be a lower-case domain like "gmail.com"'],
    ['an unknown activity type', (d) => (d.engagement.activities.PODCAST_LISTENED = { id: 'engagement.podcast', points: 5 }), 'engagement.activities.PODCAST_LISTENED: unknown field'],
    ['negative activity points', (d) => (d.engagement.activities.PAGE_VIEW.points = -1), 'engagement.activities.PAGE_VIEW.points: must be between 0 and 100'],
    ['a cap below one activity', (d) => (d.engagement.activities.FORM_SUBMITTED.maxPoints = 10), 'engagement.activities.FORM_SUBMITTED.maxPoints: must be between 20 and 100'],
    ['no activities at all', (d) => (d.engagement.activities = {}), 'engagement.activities: must score at least one activity type'],
    ['no recency windows', (d) => (d.engagement.recency = []), 'engagement.recency: must have at least 1 item(s)'],
    ['windows out of order', (d) => (d.engagement.recency[1].withinDays = 7), 'engagement.recency[1].withinDays: must be longer than the previous window (7 days)'],
    ['older activity worth more', (d) => (d.engagement.recency[2].percent = 80), 'engagement.recency[2].percent: must not exceed the percent of the more recent window (60)'],
    ['no decay period', (d) => (d.engagement.decay.halvesEveryDays = 0), 'engagement.decay.halvesEveryDays: must be between 1 and 3650'],
    ['grades out of order', (d) => (d.grades.fit.B = 70), 'grades.fit.B: must be lower than the grade above it (A: 70)'],
    ['a missing grade boundary', (d) => delete d.grades.engagement['3'], 'grades.engagement.3: must be an integer'],
    ['an unknown MQL fit grade', (d) => (d.mql.minFitGrade = 'E'), 'mql.minFitGrade: must be one of A, B, C, D'],
    ['an unknown MQL engagement grade', (d) => (d.mql.minEngagementGrade = 5), 'mql.minEngagementGrade: must be one of 1, 2, 3, 4'],
    ['a list where a mapping belongs', (d) => (d.fit.freeMail = ['gmail.com']), 'fit.freeMail: must be a mapping'],
  ])('rejects %s, naming the path', (_case, change, issue) => {
    expect(issuesAfter(change)).toContain(issue);
  });

  it('reads an unquoted engagement grade as the digit a marketer meant', () => {
    const doc = structuredClone(shipped) as Doc;
    doc.mql.minEngagementGrade = 3;
    expect(parseRuleSet(doc).mql.minEngagementGrade).toBe('3');
  });

  it('reports every problem at once, with the source, in the error message', () => {
    const doc = structuredClone(shipped) as Doc;
    doc.version = 'latest';
    doc.fit.seniority[0].points = 'lots';
    expect(() => parseRuleSet(doc, 'rules/broken.yaml')).toThrow(
      'Invalid rule set rules/broken.yaml: version: must be a date and a sequence number like "2026-11-01.1"; fit.seniority[0].points: must be an integer',
    );
  });

  it('rejects a document that is not a mapping', () => {
    expect(() => parseRuleSet('version: 1')).toThrow('(document): must be a mapping');
    expect(() => parseRuleSet(null)).toThrow(RuleSetError);
  });
});

describe('compareRuleSetVersions', () => {
  it('orders by date, then by sequence number as a number', () => {
    const versions = ['2026-11-02.1', '2026-11-01.10', '2025-12-31.3', '2026-11-01.9'];
    expect(versions.sort(compareRuleSetVersions)).toEqual(['2025-12-31.3', '2026-11-01.9', '2026-11-01.10', '2026-11-02.1']);
    expect(compareRuleSetVersions('2026-11-01.1', '2026-11-01.1')).toBe(0);
  });
});
