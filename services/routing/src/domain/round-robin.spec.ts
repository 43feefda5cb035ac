import fc from 'fast-check';
import type { Owner } from './owners.js';
import type { OwnerLoad } from './pool.js';
import { decideRoute, type RouteContext } from './route.js';

const allWeek = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
const owner = (id: string, teamId: string, weight: number): Owner => ({
  id,
  name: id,
  email: `${id}@leadmesh.example`,
  teamId,
  territories: [],
  weight,
  capacityPerDay: 100_000,
  timeZone: 'UTC',
  workingHours: allWeek,
  outOfOffice: [],
  active: true,
});

/** Routes `n` leads, applying each decision to the load the way the store's increment would. */
function simulate(weights: readonly number[], n: number): Map<string, number> {
  const owners = [...weights.map((w, i) => owner(`rep-${i}`, 'pool', w)), owner('fallback', 'ops', 1)];
  const load = new Map<string, OwnerLoad>();
  const ctx: RouteContext = {
    ruleSet: { version: 'sim', fallbackOwnerId: 'fallback', rules: [{ id: 'all', description: 'everyone', match: {}, assignTo: { teamId: 'pool' } }] },
    owners,
    teams: [{ id: 'pool', name: 'Pool', slaMinutes: 30 }, { id: 'ops', name: 'Ops', slaMinutes: 60 }],
    accountOwners: new Map(),
    load,
    now: new Date('2026-11-26T14:00:00Z'),
  };
  for (let i = 0; i < n; i++) {
    const { ownerId } = decideRoute({ email: `lead-${i}@example.org` }, ctx);
    const l = load.get(ownerId) ?? { assignedToday: 0, roundRobinTurns: 0 };
    load.set(ownerId, { assignedToday: l.assignedToday + 1, roundRobinTurns: l.roundRobinTurns + 1 });
  }
  return new Map([...load].map(([id, l]) => [id, l.roundRobinTurns]));
}

describe('weighted round robin over many leads', () => {
  it('splits 1000 leads 75/25 between weights 3 and 1', () => {
    const counts = simulate([3, 1], 1000);
    expect(counts.get('rep-0')).toBe(750);
    expect(counts.get('rep-1')).toBe(250);
  });

  it('keeps every owner within 5 points of their weight share over 1000 leads, never below their whole quota', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 1, maxLength: 6 }), (weights) => {
        const n = 1000;
        const counts = simulate(weights, n);
        const total = weights.reduce((a, b) => a + b, 0);
        expect(counts.has('fallback')).toBe(false);
        weights.forEach((w, i) => {
          const got = counts.get(`rep-${i}`) ?? 0;
          const quota = (n * w) / total;
          expect(Math.abs(got / n - w / total)).toBeLessThanOrEqual(0.05);
          expect(got).toBeGreaterThanOrEqual(Math.floor(quota));
        });
      }),
      { numRuns: 60 },
    );
  });
});
