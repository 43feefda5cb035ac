import { isSlaBreached, needsSlaReroute, planSlaReroute, rerouteExclusions, slaDueAt } from './sla.js';

const team = { id: 'enterprise-na', name: 'Enterprise NA', slaMinutes: 30 };
const assignedAt = new Date('2026-11-26T10:00:00Z');
const due = new Date('2026-11-26T10:30:00Z');
const minutes = (n: number) => new Date(assignedAt.getTime() + n * 60_000);

describe('slaDueAt', () => {
  it('adds the team SLA to the assignment time', () => {
    expect(slaDueAt(assignedAt, team)).toEqual(due);
    expect(slaDueAt(assignedAt, { ...team, slaMinutes: 24 * 60 })).toEqual(new Date('2026-11-27T10:00:00Z'));
  });

  it('refuses a team without a positive SLA', () => {
    expect(() => slaDueAt(assignedAt, { ...team, slaMinutes: 0 })).toThrow(/team\.slaMinutes/);
  });
});

describe('isSlaBreached and needsSlaReroute', () => {
  const open = { assignedAt, slaDueAt: due };

  it('is not breached before the due time', () => {
    expect(isSlaBreached(open, minutes(29))).toBe(false);
    expect(needsSlaReroute(open, minutes(29))).toBe(false);
  });

  it('is breached from the due time on while nobody accepted', () => {
    expect(isSlaBreached(open, minutes(30))).toBe(true);
    expect(needsSlaReroute(open, minutes(30))).toBe(true);
    expect(isSlaBreached(open, minutes(90))).toBe(true);
  });

  it('is never breached once accepted in time', () => {
    const accepted = { ...open, acceptedAt: minutes(10) };
    expect(isSlaBreached(accepted, minutes(300))).toBe(false);
    expect(needsSlaReroute(accepted, minutes(300))).toBe(false);
  });

  it('counts a late acceptance as a breach but no longer re-routes', () => {
    const late = { ...open, acceptedAt: minutes(45) };
    expect(isSlaBreached(late, minutes(60))).toBe(true);
    expect(needsSlaReroute(late, minutes(60))).toBe(false);
  });
});

describe('slaDueAt with an override', () => {
  it('replaces the team SLA with the override in seconds', () => {
    expect(slaDueAt(assignedAt, team, 5)).toEqual(new Date('2026-11-26T10:00:05Z'));
  });

  it('refuses a non-positive override', () => {
    expect(() => slaDueAt(assignedAt, team, 0)).toThrow(/slaOverrideSeconds/);
  });
});

describe('planSlaReroute', () => {
  const state = { ownerId: 'ann', previousOwnerIds: ['zoe'], assignedAt, slaDueAt: due };

  it('excludes the current owner and everyone who had the lead before', () => {
    expect(rerouteExclusions(state)).toEqual(['zoe', 'ann']);
  });

  it('moves a lapsed lead to a new owner and remembers the current one as previous, oldest first', () => {
    expect(planSlaReroute(state, 'bob', minutes(31))).toEqual({ reroute: true, previousOwnerIds: ['zoe', 'ann'] });
  });

  it('leaves a lead that is not due yet or was accepted', () => {
    expect(planSlaReroute(state, 'bob', minutes(29))).toMatchObject({ reroute: false, why: expect.stringContaining('not due') });
    expect(planSlaReroute({ ...state, acceptedAt: minutes(40) }, 'bob', minutes(45))).toMatchObject({ reroute: false, why: expect.stringContaining('accepted') });
  });

  it('leaves the lead where it is when routing can only hand it back to someone who had it', () => {
    expect(planSlaReroute(state, 'ann', minutes(31))).toMatchObject({ reroute: false, why: expect.stringContaining('no other owner') });
    expect(planSlaReroute(state, 'zoe', minutes(31)).reroute).toBe(false);
  });
});
