import fc from 'fast-check';
import { defaultRulesDir, loadRuleSetFiles } from '../rules/rule-set-files.js';
import { ACTIVITY_TYPES, type ActivityType } from './activity-type.js';
import { scoreLead, type ScoreResult, type ScoringInput } from './engine.js';
import type { RuleSet } from './rule-set.js';

// The invariants must hold for the rule sets marketing actually ships, every version of them.
const ruleSets = loadRuleSetFiles(defaultRulesDir());
const DAY = 86_400_000;

const ruleSetArb = fc.constantFrom(...ruleSets);
const asOfArb = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true });

const profileArb: fc.Arbitrary<ScoringInput['profile']> = fc.record(
  {
    email: fc.oneof(fc.emailAddress(), fc.constantFrom('ada@gmail.com', 'bob@YAHOO.com', 'no-at-sign'), fc.string()),
    jobTitle: fc.oneof(
      fc.string(),
      fc.constantFrom('VP of Engineering', 'Chief Executive Officer', 'Vice President, IT', 'Student', 'Data Analyst', ''),
    ),
    company: fc.string(),
    companySize: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000_000 })),
    industry: fc.oneof(fc.string(), fc.constantFrom('Software', 'Banking', 'Education', 'Retail')),
    country: fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('US', 'de', 'AU', 'BR')),
    product: fc.string(),
  },
  { requiredKeys: ['email'] },
);

/** An activity up to 200 days before asOf, or a little after it (which must be ignored). */
const activityAt = (asOf: Date, type: fc.Arbitrary<ActivityType> = fc.constantFrom(...ACTIVITY_TYPES)) =>
  fc.record({
    type,
    occurredAt: fc.integer({ min: -2 * DAY, max: 200 * DAY }).map((ago) => new Date(asOf.getTime() - ago)),
  });

const inputArb: fc.Arbitrary<ScoringInput> = asOfArb.chain((asOf) =>
  fc.record({ profile: profileArb, activities: fc.array(activityAt(asOf), { maxLength: 40 }), asOf: fc.constant(asOf) }),
);

const positiveTypes = (ruleSet: RuleSet): ActivityType[] =>
  ACTIVITY_TYPES.filter((type) => (ruleSet.engagement.activities[type]?.points ?? 0) > 0);

const sumOf = (result: ScoreResult, dimension: 'FIT' | 'ENGAGEMENT') =>
  result.reasons.filter((r) => r.dimension === dimension).reduce((sum, r) => sum + r.points, 0);

describe('scoreLead properties', () => {
  it('keeps both scores integers within 0-100, explained to the point, for arbitrary leads', () => {
    fc.assert(
      fc.property(inputArb, ruleSetArb, (input, ruleSet) => {
        const result = scoreLead(input, ruleSet);
        for (const score of [result.fitScore, result.engagementScore]) {
          expect(Number.isInteger(score)).toBe(true);
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(100);
        }
        expect(sumOf(result, 'FIT')).toBe(result.fitScore);
        expect(sumOf(result, 'ENGAGEMENT')).toBe(result.engagementScore);
        expect(result.reasons.every((r) => r.points !== 0 && Number.isInteger(r.points))).toBe(true);
        expect(result.grade).toMatch(/^[A-D][1-4]$/);
        expect(result.ruleSetVersion).toBe(ruleSet.version);
      }),
    );
  });

  it('is deterministic, whatever the order the activities arrive in', () => {
    fc.assert(
      fc.property(inputArb, ruleSetArb, fc.infiniteStream(fc.nat()), (input, ruleSet, randoms) => {
        const first = scoreLead(input, ruleSet);
        expect(scoreLead(structuredClone(input), ruleSet)).toEqual(first);
        const shuffled = input.activities
          .map((activity) => ({ activity, key: randoms.next().value as number }))
          .sort((a, b) => a.key - b.key)
          .map(({ activity }) => activity);
        const reordered = scoreLead({ ...input, activities: shuffled }, ruleSet);
        expect(reordered).toEqual(first);
      }),
    );
  });

  it('never lowers engagement (nor changes fit) when a positive-points activity is added', () => {
    fc.assert(
      fc.property(
        ruleSetArb.chain((ruleSet) =>
          inputArb.chain((input) =>
            fc.tuple(fc.constant(ruleSet), fc.constant(input), activityAt(input.asOf, fc.constantFrom(...positiveTypes(ruleSet)))),
          ),
        ),
        ([ruleSet, input, extra]) => {
          const before = scoreLead(input, ruleSet);
          const after = scoreLead({ ...input, activities: [...input.activities, extra] }, ruleSet);
          expect(after.engagementScore).toBeGreaterThanOrEqual(before.engagementScore);
          expect(after.fitScore).toBe(before.fitScore);
        },
      ),
    );
  });

  it('never scores an activity higher when it happened longer ago', () => {
    fc.assert(
      fc.property(
        inputArb,
        ruleSetArb,
        fc.constantFrom(...ACTIVITY_TYPES),
        fc.integer({ min: 0, max: 200 * DAY }),
        fc.integer({ min: 0, max: 200 * DAY }),
        (input, ruleSet, type, a, b) => {
          const [recentAgo, olderAgo] = a <= b ? [a, b] : [b, a];
          const withActivity = (ago: number) =>
            scoreLead({ ...input, activities: [...input.activities, { type, occurredAt: new Date(input.asOf.getTime() - ago) }] }, ruleSet);
          expect(withActivity(olderAgo).engagementScore).toBeLessThanOrEqual(withActivity(recentAgo).engagementScore);
        },
      ),
    );
  });
});
