import type { Owner } from './owners.js';
import { decideRoute, type RouteContext } from './route.js';
import { roundRobinClaim } from './turns.js';

const allWeek = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
const owner = (id: string, teamId: string, weight = 1): Owner => ({
  id,
  name: id,
  email: `${id}@leadmesh.example`,
  teamId,
  territories: [],
  weight,
  capacityPerDay: 1000,
  timeZone: 'UTC',
  workingHours: allWeek,
  outOfOffice: [],
  active: true,
});

const ctx = (load: RouteContext['load'] = new Map()): RouteContext => ({
  ruleSet: {
    version: 't',
    fallbackOwnerId: 'ops',
    rules: [{ id: 'pool-rule', description: 'MQLs to the pool', match: { stages: ['MQL'] }, assignTo: { teamId: 'pool' } }],
  },
  owners: [owner('ann', 'pool', 3), owner('bob', 'pool', 1), owner('ops', 'sales-ops')],
  teams: [
    { id: 'pool', name: 'Pool', slaMinutes: 30 },
    { id: 'sales-ops', name: 'Ops', slaMinutes: 60 },
  ],
  accountOwners: new Map([['acme.com', 'bob']]),
  load,
  now: new Date('2026-11-26T12:00:00Z'),
});

describe('roundRobinClaim', () => {
  it('claims the picked owner at the turn count the decision saw', () => {
    const load = new Map([['ann', { assignedToday: 9, roundRobinTurns: 4 }]]);
    const decision = decideRoute({ email: 'x@example.org', stage: 'MQL' }, ctx(load));
    expect(decision.via).toBe('RULE');
    expect(roundRobinClaim(decision, load)).toEqual({ teamId: 'pool', ownerId: 'bob', seenTurns: 0 });
  });

  it('takes no turn for an account match, even when the account owner is in the pool', () => {
    const decision = decideRoute({ email: 'x@acme.com', stage: 'MQL' }, ctx());
    expect(decision).toMatchObject({ ownerId: 'bob', via: 'ACCOUNT' });
    expect(roundRobinClaim(decision, new Map())).toBeUndefined();
  });

  it('takes no turn for the fallback', () => {
    const decision = decideRoute({ email: 'x@example.org', stage: 'LEAD' }, ctx());
    expect(decision).toMatchObject({ ownerId: 'ops', via: 'FALLBACK' });
    expect(roundRobinClaim(decision, new Map())).toBeUndefined();
  });

  it('keeps the 3:1 split of pool leads exact however many account leads the weight-1 owner also gets', () => {
    const turns = new Map<string, { assignedToday: number; roundRobinTurns: number }>();
    const got = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const email = i % 2 === 0 ? `buyer${i}@acme.com` : `lead${i}@example.org`;
      const decision = decideRoute({ email, stage: 'MQL' }, ctx(turns));
      const claim = roundRobinClaim(decision, turns);
      if (claim) turns.set(claim.ownerId, { assignedToday: 0, roundRobinTurns: claim.seenTurns + 1 });
      if (decision.via === 'RULE') got.set(decision.ownerId, (got.get(decision.ownerId) ?? 0) + 1);
    }
    expect(got.get('ann')).toBe(150);
    expect(got.get('bob')).toBe(50);
  });
});
