import { engagementGrade, fitGrade, meetsMqlThreshold } from './grade.js';
import { mqlTransition, scoreLead, ScoringInputError, toActivityType, type ActivityType, type ScoreResult, type ScoringInput } from './engine.js';
import { parseRuleSet, type RuleSet } from './rule-set.js';

const DAY = 86_400_000;
const AS_OF = new Date('2026-11-20T12:00:00Z');

// A small rule set with round numbers, so every expected score below can be checked by hand.
const ruleSet: RuleSet = parseRuleSet({
  version: '2026-01-01.1',
  description: 'Rules for the engine spec',
  fit: {
    seniority: [
      { id: 'fit.seniority.c-level', label: 'C-level', keywords: ['ceo', 'chief', 'president'], points: 40 },
      { id: 'fit.seniority.vp', label: 'VP', keywords: ['vp', 'vice president'], points: 20 },
      { id: 'fit.seniority.student', label: 'Student', keywords: ['student'], points: -10 },
    ],
    function: [{ id: 'fit.function.engineering', label: 'Engineering', keywords: ['engineering', 'engineer'], points: 15 }],
    companySize: [
      { id: 'fit.size.small', label: '1-50 employees', min: 1, max: 50, points: 5 },
      { id: 'fit.size.large', label: 'more than 50 employees', min: 51, points: 25 },
    ],
    industries: [{ id: 'fit.industry.software', label: 'Software', industries: ['Software', 'SaaS'], points: 20 }],
    countries: [{ id: 'fit.country.dach', label: 'DACH', countries: ['DE', 'AT', 'CH'], points: 10 }],
    freeMail: { id: 'fit.free-mail', points: -25, domains: ['gmail.com'] },
  },
  engagement: {
    activities: {
      PAGE_VIEW: { id: 'engagement.page-view', points: 2, maxPoints: 6 },
      PRICING_PAGE_VIEW: { id: 'engagement.pricing', points: 20 },
      FORM_SUBMITTED: { id: 'engagement.form', points: 30 },
    },
    recency: [
      { withinDays: 7, percent: 100 },
      { withinDays: 30, percent: 50 },
    ],
    decay: { id: 'engagement.decay', halvesEveryDays: 10 },
  },
  grades: { fit: { A: 60, B: 40, C: 20 }, engagement: { 1: 60, 2: 40, 3: 20 } },
  mql: { minFitGrade: 'B', minEngagementGrade: 2 },
});

function score(profile: Partial<ScoringInput['profile']>, activities: ScoringInput['activities'] = []): ScoreResult {
  return scoreLead({ profile: { email: 'ada@acme.io', ...profile }, activities, asOf: AS_OF }, ruleSet);
}

function daysAgo(days: number, type: ActivityType = 'PRICING_PAGE_VIEW') {
  return { type, occurredAt: new Date(AS_OF.getTime() - days * DAY) };
}

function reasonsOf(result: ScoreResult, dimension: 'FIT' | 'ENGAGEMENT') {
  return result.reasons.filter((r) => r.dimension === dimension).map(({ ruleId, points, explanation }) => ({ ruleId, points, explanation }));
}

describe('scoreLead: fit', () => {
  it('awards seniority and function from the job title, each with a sentence a marketer can read', () => {
    const result = score({ jobTitle: 'VP of Engineering' });
    expect(reasonsOf(result, 'FIT')).toEqual([
      { ruleId: 'fit.seniority.vp', points: 20, explanation: "Job title 'VP of Engineering' matches seniority 'VP' (+20)" },
      { ruleId: 'fit.function.engineering', points: 15, explanation: "Job title 'VP of Engineering' matches function 'Engineering' (+15)" },
    ]);
    expect(result.fitScore).toBe(35);
  });

  it('prefers the most specific keyword, so a Vice President is not scored as a President', () => {
    expect(reasonsOf(score({ jobTitle: 'Vice President, Sales' }), 'FIT').map((r) => r.ruleId)).toEqual(['fit.seniority.vp']);
    expect(reasonsOf(score({ jobTitle: 'President & CEO' }), 'FIT').map((r) => r.ruleId)).toEqual(['fit.seniority.c-level']);
  });

  it('matches whole words only, ignoring case and punctuation', () => {
    expect(score({ jobTitle: 'Director of VPN Services' }).fitScore).toBe(0);
    expect(score({ jobTitle: 'chief-engineer' }).reasons.map((r) => r.ruleId)).toEqual(['fit.seniority.c-level', 'fit.function.engineering']);
  });

  it('scores company size by inclusive bands and treats 0 as unknown', () => {
    expect(reasonsOf(score({ companySize: 50 }), 'FIT')).toEqual([
      { ruleId: 'fit.size.small', points: 5, explanation: "Company size of 50 employees is in the band '1-50 employees' (+5)" },
    ]);
    expect(score({ companySize: 51 }).fitScore).toBe(25);
    expect(score({ companySize: 0 }).reasons).toEqual([]);
    expect(score({}).reasons).toEqual([]);
  });

  it('scores industries case-insensitively', () => {
    expect(reasonsOf(score({ industry: 'saas' }), 'FIT')).toEqual([
      { ruleId: 'fit.industry.software', points: 20, explanation: "Industry 'saas' counts as 'Software' (+20)" },
    ]);
    expect(score({ industry: 'Hardware' }).fitScore).toBe(0);
  });

  it('scores countries by region from their ISO code', () => {
    expect(reasonsOf(score({ country: 'de' }), 'FIT')).toEqual([
      { ruleId: 'fit.country.dach', points: 10, explanation: "Country 'DE' is in the region 'DACH' (+10)" },
    ]);
    expect(score({ country: 'FR' }).fitScore).toBe(0);
  });

  it('penalises free-mail domains and never lets fit drop below 0', () => {
    const result = score({ email: 'Ada@Gmail.com ', jobTitle: 'VP Engineering' });
    expect(reasonsOf(result, 'FIT')).toEqual([
      { ruleId: 'fit.seniority.vp', points: 20, explanation: "Job title 'VP Engineering' matches seniority 'VP' (+20)" },
      { ruleId: 'fit.function.engineering', points: 15, explanation: "Job title 'VP Engineering' matches function 'Engineering' (+15)" },
      { ruleId: 'fit.free-mail', points: -25, explanation: "Email domain 'gmail.com' is a free-mail provider, not a company domain (-25)" },
    ]);
    expect(result.fitScore).toBe(10);

    const student = score({ email: 'kid@gmail.com', jobTitle: 'Student' });
    expect(student.fitScore).toBe(0);
    expect(reasonsOf(student, 'FIT').at(-1)).toEqual({ ruleId: 'fit.bounds', points: 35, explanation: 'Fit score cannot go below 0 (+35)' });
  });

  it('caps fit at 100 with a reason, so the reasons still add up to the score', () => {
    const result = score({ jobTitle: 'Chief Engineer', companySize: 500, industry: 'Software', country: 'CH' });
    expect(result.fitScore).toBe(100);
    expect(reasonsOf(result, 'FIT').at(-1)).toEqual({ ruleId: 'fit.bounds', points: -10, explanation: 'Fit score is capped at 100 (-10)' });
    expect(result.reasons.reduce((sum, r) => sum + r.points, 0)).toBe(100);
  });
});

describe('scoreLead: engagement', () => {
  it('awards points per activity type and counts repeats', () => {
    const result = score({}, [daysAgo(1, 'FORM_SUBMITTED'), daysAgo(2, 'FORM_SUBMITTED'), daysAgo(1)]);
    expect(reasonsOf(result, 'ENGAGEMENT')).toEqual([
      { ruleId: 'engagement.pricing', points: 20, explanation: '1 pricing page view in the last 7 days (+20)' },
      { ruleId: 'engagement.form', points: 60, explanation: '2 form submissions in the last 7 days [2 x 30] (+60)' },
    ]);
    expect(result.engagementScore).toBe(80);
  });

  it('caps what one activity type can add', () => {
    const views = [1, 2, 3, 4, 5].map((d) => daysAgo(d, 'PAGE_VIEW'));
    expect(reasonsOf(score({}, views), 'ENGAGEMENT')).toEqual([
      { ruleId: 'engagement.page-view', points: 10, explanation: '5 page views in the last 7 days [5 x 2] (+10)' },
      { ruleId: 'engagement.page-view', points: -4, explanation: 'Page views count for at most 6 points (-4)' },
    ]);
  });

  it('gives older activity a smaller share, with the window edge inclusive, and ignores it past the last window', () => {
    expect(score({}, [daysAgo(7)]).engagementScore).toBe(20);
    const justOlder = score({}, [{ type: 'PRICING_PAGE_VIEW', occurredAt: new Date(AS_OF.getTime() - 7 * DAY - 1) }]);
    expect(reasonsOf(justOlder, 'ENGAGEMENT')).toEqual([
      { ruleId: 'engagement.pricing', points: 10, explanation: '1 pricing page view 7 to 30 days ago [50% of 20 points for their age] (+10)' },
    ]);
    expect(score({}, [daysAgo(30 + 1 / DAY)]).reasons).toEqual([]);
  });

  it('halves engagement for every full decay period since the latest activity', () => {
    expect(score({}, [daysAgo(10 - 1 / DAY)]).engagementScore).toBe(10);
    const once = score({}, [daysAgo(10)]);
    expect(once.engagementScore).toBe(5);
    expect(reasonsOf(once, 'ENGAGEMENT').at(-1)).toEqual({
      ruleId: 'engagement.decay',
      points: -5,
      explanation: 'No activity for 10 days: engagement halves every 10 days, so it was halved once (-5)',
    });
    const twice = score({}, [daysAgo(25, 'FORM_SUBMITTED')]);
    expect(twice.engagementScore).toBe(3); // 15 points at 50%, halved twice and rounded down
    expect(reasonsOf(twice, 'ENGAGEMENT').at(-1)?.explanation).toBe(
      'No activity for 25 days: engagement halves every 10 days, so it was halved 2 times (-12)',
    );
  });

  it('measures decay from the latest activity, so one fresh activity keeps older ones at full value', () => {
    const result = score({}, [daysAgo(25, 'FORM_SUBMITTED'), daysAgo(1, 'PAGE_VIEW')]);
    expect(result.engagementScore).toBe(17);
    expect(result.reasons.some((r) => r.ruleId === 'engagement.decay')).toBe(false);
  });

  it('caps engagement at 100 before decay', () => {
    const forms = [1, 2, 3, 4].map((d) => daysAgo(d, 'FORM_SUBMITTED'));
    const fresh = score({}, forms);
    expect(fresh.engagementScore).toBe(100);
    expect(reasonsOf(fresh, 'ENGAGEMENT').at(-1)).toEqual({
      ruleId: 'engagement.bounds',
      points: -20,
      explanation: 'Engagement score is capped at 100 (-20)',
    });
  });

  it('ignores activity after asOf and activity types the rule set does not score', () => {
    const future = { type: 'FORM_SUBMITTED' as const, occurredAt: new Date(AS_OF.getTime() + 1) };
    expect(score({}, [future, daysAgo(1, 'EMAIL_OPENED')]).reasons).toEqual([]);
  });
});

describe('scoreLead: grades and lifecycle', () => {
  it('grades at exact boundaries on both sides', () => {
    const { grades } = ruleSet;
    expect([60, 59, 40, 39, 20, 19, 0].map((s) => fitGrade(s, grades))).toEqual(['A', 'B', 'B', 'C', 'C', 'D', 'D']);
    expect([100, 60, 59, 40, 39, 20, 19, 0].map((s) => engagementGrade(s, grades))).toEqual(['1', '1', '2', '2', '3', '3', '4', '4']);
  });

  it('applies the MQL rule: both grades at least the minimum', () => {
    const rule = ruleSet.mql;
    expect(meetsMqlThreshold('B', '2', rule)).toBe(true);
    expect(meetsMqlThreshold('A', '1', rule)).toBe(true);
    expect(meetsMqlThreshold('C', '1', rule)).toBe(false);
    expect(meetsMqlThreshold('A', '3', rule)).toBe(false);
  });

  it('combines both scores into a grade and a lifecycle stage', () => {
    // Fit 40 (VP 20 + Engineering 15 + small company 5) is exactly B; two fresh pricing views are exactly 40, grade 2.
    const mql = score({ jobTitle: 'VP Engineering', companySize: 10 }, [daysAgo(1), daysAgo(2)]);
    expect(mql).toMatchObject({ fitScore: 40, engagementScore: 40, grade: 'B2', lifecycleStage: 'MQL', ruleSetVersion: '2026-01-01.1' });
    const lead = score({ jobTitle: 'VP Engineering' }, [daysAgo(1), daysAgo(2)]);
    expect(lead).toMatchObject({ fitScore: 35, grade: 'C2', lifecycleStage: 'LEAD' });
  });
});

describe('mqlTransition', () => {
  const withStage = (lifecycleStage: 'LEAD' | 'MQL'): ScoreResult => ({ ...score({}), lifecycleStage });

  it('is true only when crossing from not-MQL to MQL', () => {
    expect(mqlTransition(undefined, withStage('MQL'))).toBe(true);
    expect(mqlTransition(withStage('LEAD'), withStage('MQL'))).toBe(true);
    expect(mqlTransition(withStage('MQL'), withStage('MQL'))).toBe(false);
    expect(mqlTransition(withStage('MQL'), withStage('LEAD'))).toBe(false);
    expect(mqlTransition(withStage('LEAD'), withStage('LEAD'))).toBe(false);
    expect(mqlTransition(undefined, withStage('LEAD'))).toBe(false);
  });
});

describe('toActivityType', () => {
  it('accepts the plain name and the proto enum name', () => {
    expect(toActivityType('PRICING_PAGE_VIEW')).toBe('PRICING_PAGE_VIEW');
    expect(toActivityType('ACTIVITY_TYPE_PRICING_PAGE_VIEW')).toBe('PRICING_PAGE_VIEW');
    expect(toActivityType('ACTIVITY_TYPE_UNSPECIFIED')).toBeUndefined();
    expect(toActivityType('pricing_page_view')).toBeUndefined();
    expect(toActivityType('')).toBeUndefined();
  });
});

describe('scoreLead: bad input', () => {
  const base: ScoringInput = { profile: { email: 'ada@acme.io' }, activities: [], asOf: AS_OF };
  const fieldOf = (input: ScoringInput): string | undefined => {
    try {
      scoreLead(input, ruleSet);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(ScoringInputError);
      return (error as ScoringInputError).field;
    }
  };

  it('names the bad field', () => {
    expect(fieldOf({ ...base, asOf: new Date('not a date') })).toBe('asOf');
    expect(fieldOf({ ...base, profile: { email: 'a@b.c', companySize: -3 } })).toBe('profile.companySize');
    expect(fieldOf({ ...base, activities: [daysAgo(1), { type: 'PODCAST' as ActivityType, occurredAt: AS_OF }] })).toBe('activities[1].type');
    expect(fieldOf({ ...base, activities: [{ type: 'PAGE_VIEW', occurredAt: new Date(Number.NaN) }] })).toBe('activities[0].occurredAt');
    expect(() => scoreLead({ ...base, activities: [{ type: 'NOPE' as ActivityType, occurredAt: AS_OF }] }, ruleSet)).toThrow(
      "activities[0].type: unknown activity type 'NOPE'",
    );
  });
});
