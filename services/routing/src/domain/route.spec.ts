import type { Owner, Team } from './owners.js';
import type { OwnerLoad } from './pool.js';
import { crmAccountIndex, type CrmAccount } from './crm-accounts.js';
import { decideRoute, type RouteContext, type RoutingLead } from './route.js';
import type { RoutingRuleSet } from './rules.js';

// Thursday 14:00 UTC: 15:00 in Berlin, 09:00 in New York.
const now = new Date('2026-11-26T14:00:00Z');
const allWeek = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

const owner = (id: string, teamId: string, extra: Partial<Owner> = {}): Owner => ({
  id,
  name: id.charAt(0).toUpperCase() + id.slice(1),
  email: `${id}@leadmesh.example`,
  teamId,
  territories: [],
  weight: 1,
  capacityPerDay: 50,
  timeZone: 'UTC',
  workingHours: allWeek,
  outOfOffice: [],
  active: true,
  ...extra,
});

const teams: Team[] = [
  { id: 'core', name: 'Core', slaMinutes: 30 },
  { id: 'emea', name: 'EMEA', slaMinutes: 60 },
  { id: 'ops', name: 'Sales Ops', slaMinutes: 240 },
  { id: 'empty', name: 'Empty', slaMinutes: 60 },
];

const owners: Owner[] = [
  owner('bob', 'core'),
  owner('ann', 'core', { weight: 3 }),
  owner('cara', 'emea', { timeZone: 'Europe/Berlin', workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' } }),
  owner('dan', 'emea', { territories: ['DE', 'AT', 'CH'] }),
  owner('dana', 'ops'),
];

const ruleSet: RoutingRuleSet = {
  version: '2026-11-01.1',
  fallbackOwnerId: 'dana',
  freeMailDomains: ['duck.com'],
  rules: [
    { id: 'emea-mql', description: 'EMEA MQLs', match: { stages: ['MQL'], regions: ['EMEA'] }, assignTo: { teamId: 'emea' } },
    { id: 'a-grades', description: 'A-grade leads', match: { grades: ['A'] }, assignTo: { teamId: 'core' } },
    { id: 'partners', description: 'Partner referrals', match: { sources: ['partner-portal'] }, assignTo: { teamId: 'empty' } },
  ],
};

const ctx = (extra: Partial<RouteContext> = {}): RouteContext => ({
  ruleSet,
  owners,
  teams,
  accountOwners: new Map([['acme.com', 'bob'], ['gmail.com', 'bob']]),
  load: new Map(),
  now,
  ...extra,
});

const lead = (extra: Partial<RoutingLead> = {}): RoutingLead => ({ email: 'kim@example.org', ...extra });
const loads = (entries: Record<string, Partial<OwnerLoad>>) =>
  new Map(Object.entries(entries).map(([id, l]) => [id, { assignedToday: 0, roundRobinTurns: 0, ...l }]));

describe('decideRoute: rules', () => {
  it('takes the first matching rule in order', () => {
    const both = lead({ stage: 'MQL', country: 'DE', grade: 'A1' });
    expect(decideRoute(both, ctx()).ruleId).toBe('emea-mql');
    const reordered = { ...ruleSet, rules: [ruleSet.rules[1]!, ruleSet.rules[0]!] };
    expect(decideRoute(both, ctx({ ruleSet: reordered })).ruleId).toBe('a-grades');
  });

  it('explains which earlier rules missed, which rule matched and why', () => {
    const decision = decideRoute(lead({ stage: 'LEAD', country: 'FR', grade: 'A2' }), ctx());
    expect(decision).toMatchObject({ via: 'RULE', ruleId: 'a-grades', teamId: 'core', ownerId: 'ann', ruleSetVersion: '2026-11-01.1' });
    expect(decision.reason).toContain("Earlier rules did not match: 'emea-mql' (stage LEAD is not MQL).");
    expect(decision.reason).toContain("Rule 'a-grades' (A-grade leads) matched because grade A2 matches A.");
    expect(decision.reason).toContain('Ann was picked by weighted round robin in team Core (core)');
    expect(decision.reason).toContain('No account owns example.org.');
  });

  it('lists every owner of the team as a candidate with the reason', () => {
    const decision = decideRoute(lead({ grade: 'A1' }), ctx({ load: loads({ ann: { roundRobinTurns: 2, assignedToday: 1 } }) }));
    expect(decision.candidates).toEqual([
      { ownerId: 'ann', eligible: true, reason: 'Ann is eligible (weight 3, 2 round-robin turns so far, 1 of 50 today)' },
      { ownerId: 'bob', eligible: true, reason: 'Bob is eligible (weight 1, 0 round-robin turns so far, 0 of 50 today)' },
    ]);
  });
});

describe('decideRoute: weighted round robin', () => {
  it('picks the smallest (roundRobinTurns + 1) / weight', () => {
    // ann: (5+1)/3 = 2, bob: (0+1)/1 = 1
    expect(decideRoute(lead({ grade: 'A1' }), ctx({ load: loads({ ann: { roundRobinTurns: 5 } }) })).ownerId).toBe('bob');
    // ann: (4+1)/3 = 1.67, bob: (1+1)/1 = 2
    expect(decideRoute(lead({ grade: 'A1' }), ctx({ load: loads({ ann: { roundRobinTurns: 4 }, bob: { roundRobinTurns: 1 } }) })).ownerId).toBe('ann');
  });

  it('breaks ties by owner id', () => {
    // ann: (2+1)/3 = 1, bob: (0+1)/1 = 1
    expect(decideRoute(lead({ grade: 'A1' }), ctx({ load: loads({ ann: { roundRobinTurns: 2 } }) })).ownerId).toBe('ann');
  });

  it('gives a 3:1 team three leads in four when each decision is applied to the load', () => {
    const load = new Map<string, OwnerLoad>();
    const picks: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { ownerId } = decideRoute(lead({ grade: 'A1' }), ctx({ load }));
      picks.push(ownerId);
      const l = load.get(ownerId) ?? { assignedToday: 0, roundRobinTurns: 0 };
      load.set(ownerId, { assignedToday: l.assignedToday + 1, roundRobinTurns: l.roundRobinTurns + 1 });
    }
    expect(picks.filter((p) => p === 'ann')).toHaveLength(6);
    expect(picks.filter((p) => p === 'bob')).toHaveLength(2);
  });

  it('is pure: the same inputs give the same decision and the load is untouched', () => {
    const load = loads({ ann: { roundRobinTurns: 7, assignedToday: 3 } });
    const before = JSON.stringify([...load]);
    const first = decideRoute(lead({ grade: 'A1' }), ctx({ load }));
    expect(decideRoute(lead({ grade: 'A1' }), ctx({ load }))).toEqual(first);
    expect(JSON.stringify([...load])).toBe(before);
  });
});

describe('decideRoute: skipped owners', () => {
  const emeaMql = lead({ stage: 'MQL', country: 'DE' });

  it('skips an owner who is out of office', () => {
    const away = owners.map((o) => (o.id === 'ann' ? { ...o, outOfOffice: [{ from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-30T00:00:00Z') }] } : o));
    const decision = decideRoute(lead({ grade: 'A1' }), ctx({ owners: away }));
    expect(decision.ownerId).toBe('bob');
    expect(decision.candidates[0]).toEqual({ ownerId: 'ann', eligible: false, reason: 'Ann is out of office until 2026-11-30T00:00:00.000Z' });
    expect(decision.reason).toContain('Skipped: Ann is out of office until 2026-11-30T00:00:00.000Z.');
  });

  it('skips an owner outside working hours in their own time zone', () => {
    // cara (weight 1, Berlin 09-17) would win on id at 15:00 Berlin; at 17:30 Berlin she is off.
    expect(decideRoute(emeaMql, ctx()).ownerId).toBe('cara');
    const evening = decideRoute(emeaMql, ctx({ now: new Date('2026-11-26T16:30:00Z') }));
    expect(evening.ownerId).toBe('dan');
    expect(evening.reason).toContain('Cara is outside working hours (Thu 17:30 in Europe/Berlin; works Mon-Fri 09:00-17:00)');
  });

  it('skips an inactive owner', () => {
    const inactive = owners.map((o) => (o.id === 'ann' ? { ...o, active: false } : o));
    expect(decideRoute(lead({ grade: 'A1' }), ctx({ owners: inactive })).candidates[0]).toEqual({ ownerId: 'ann', eligible: false, reason: 'Ann is inactive' });
  });

  it('skips an owner who reached the daily cap, even with the lowest total', () => {
    const decision = decideRoute(lead({ grade: 'A1' }), ctx({ load: loads({ ann: { assignedToday: 50, roundRobinTurns: 0 }, bob: { roundRobinTurns: 40 } }) }));
    expect(decision.ownerId).toBe('bob');
    expect(decision.reason).toContain('Ann has reached the daily cap of 50 leads');
  });

  it('skips excluded owners, as the SLA re-route asks', () => {
    const decision = decideRoute(lead({ grade: 'A1' }), ctx({ excludeOwnerIds: ['ann'] }));
    expect(decision.ownerId).toBe('bob');
    expect(decision.candidates[0]?.reason).toBe('Ann is excluded from this routing (already had the lead)');
    expect(decision.reason).toContain('Bob was picked as the only eligible owner in team Core (core) (weight 1, 0 round-robin turns so far).');
  });

  it('skips an owner whose territory does not cover the lead country', () => {
    const decision = decideRoute(lead({ stage: 'MQL', country: 'FR' }), ctx({ owners: owners.filter((o) => o.id !== 'cara') }));
    expect(decision.via).toBe('FALLBACK');
    expect(decision.reason).toContain('Dan covers DE, AT, CH, not country FR');
  });

  it('skips an owner whose segments do not fit the lead', () => {
    const segmented = owners.map((o) => (o.id === 'ann' ? { ...o, segments: { maxCompanySize: 200, industries: ['Retail'] } } : o));
    expect(decideRoute(lead({ grade: 'A1', companySize: 5000 }), ctx({ owners: segmented })).candidates[0]?.reason).toBe(
      'Ann takes companies of at most 200 employees, not 5000',
    );
    expect(decideRoute(lead({ grade: 'A1', industry: 'Banking' }), ctx({ owners: segmented })).candidates[0]?.reason).toBe(
      'Ann covers the industries Retail, not Banking',
    );
    // Unknown size and industry do not disqualify.
    expect(decideRoute(lead({ grade: 'A1' }), ctx({ owners: segmented })).ownerId).toBe('ann');
  });
});

describe('decideRoute: fallback', () => {
  it('goes to the fallback owner when no rule matches, listing why each missed', () => {
    const decision = decideRoute(lead({ grade: 'C3', stage: 'LEAD' }), ctx());
    expect(decision).toMatchObject({ via: 'FALLBACK', ruleId: 'fallback', ownerId: 'dana', teamId: 'ops', candidates: [] });
    expect(decision.reason).toContain(
      "No routing rule matched: 'emea-mql' (stage LEAD is not MQL); 'a-grades' (grade C3 is not one of A); 'partners' (the lead has no form id or utm source).",
    );
    expect(decision.reason).toContain('The lead goes to the fallback owner Dana.');
  });

  it('goes to the fallback owner when nobody in the matched team is eligible', () => {
    const decision = decideRoute(lead({ grade: 'A1' }), ctx({ excludeOwnerIds: ['ann'], load: loads({ bob: { assignedToday: 50 } }) }));
    expect(decision).toMatchObject({ via: 'FALLBACK', ruleId: 'fallback', ownerId: 'dana' });
    expect(decision.candidates.map((c) => c.eligible)).toEqual([false, false]);
    expect(decision.reason).toContain("Rule 'a-grades' (A-grade leads) matched because grade A1 matches A.");
    expect(decision.reason).toContain(
      'Nobody in team Core (core) can take the lead: Ann is excluded from this routing (already had the lead); Bob has reached the daily cap of 50 leads.',
    );
  });

  it('goes to the fallback owner when the matched team has no owners', () => {
    const decision = decideRoute(lead({ formId: 'partner-portal' }), ctx());
    expect(decision.via).toBe('FALLBACK');
    expect(decision.reason).toContain('Team Empty (empty) has no owners.');
  });

  it('still uses the fallback owner when they are away, and says so', () => {
    const away = owners.map((o) => (o.id === 'dana' ? { ...o, outOfOffice: [{ from: new Date('2026-11-01'), to: new Date('2026-12-01') }] } : o));
    const decision = decideRoute(lead(), ctx({ owners: away }));
    expect(decision.ownerId).toBe('dana');
    expect(decision.reason).toContain('Dana is out of office until 2026-12-01T00:00:00.000Z, but the fallback owner takes every lead nobody else can.');
  });

  it('fails loudly when the fallback owner is unknown', () => {
    expect(() => decideRoute(lead(), ctx({ ruleSet: { ...ruleSet, fallbackOwnerId: 'ghost' } }))).toThrow(/fallbackOwnerId: owner "ghost"/);
  });
});

describe('decideRoute: account matching', () => {
  it('sends a lead from an owned account to its owner ahead of the round robin', () => {
    const decision = decideRoute(lead({ email: 'kim@acme.com', grade: 'A1' }), ctx());
    expect(decision).toMatchObject({ via: 'ACCOUNT', ruleId: 'account-match', ownerId: 'bob', teamId: 'core' });
    expect(decision.candidates).toEqual([{ ownerId: 'bob', eligible: true, reason: 'Bob owns the account acme.com' }]);
    expect(decision.reason).toContain('the email domain acme.com belongs to the account acme.com, owned by Bob');
  });

  it('matches a subdomain to the parent account', () => {
    expect(decideRoute(lead({ email: 'kim@emea.acme.com' }), ctx()).ownerId).toBe('bob');
  });

  it('never matches a free-mail domain, even if someone listed it as an account', () => {
    const decision = decideRoute(lead({ email: 'kim@gmail.com', grade: 'A1' }), ctx());
    expect(decision).toMatchObject({ via: 'RULE', ownerId: 'ann' });
    expect(decision.reason).toContain('No account match: gmail.com is a free-mail domain, which never identifies an account.');
    const custom = decideRoute(lead({ email: 'kim@duck.com' }), ctx({ accountOwners: new Map([['duck.com', 'bob']]) }));
    expect(custom.via).toBe('FALLBACK');
  });

  it('keeps the account owner while they are away or capped, and says so', () => {
    const away = owners.map((o) => (o.id === 'bob' ? { ...o, outOfOffice: [{ from: new Date('2026-11-25'), to: new Date('2026-11-28') }] } : o));
    const decision = decideRoute(lead({ email: 'kim@acme.com' }), ctx({ owners: away, load: loads({ bob: { assignedToday: 50 } }) }));
    expect(decision).toMatchObject({ via: 'ACCOUNT', ownerId: 'bob' });
    expect(decision.reason).toContain('Bob is out of office until 2026-11-28T00:00:00.000Z; the account owner keeps the lead anyway');
  });

  it('hands the lead to the rules when the account owner is inactive, excluded or unknown', () => {
    const inactive = owners.map((o) => (o.id === 'bob' ? { ...o, active: false } : o));
    const a = decideRoute(lead({ email: 'kim@acme.com', grade: 'A1' }), ctx({ owners: inactive }));
    expect(a).toMatchObject({ via: 'RULE', ownerId: 'ann' });
    expect(a.reason).toContain('The account owner of acme.com, Bob, is inactive, so the routing rules decide.');

    const b = decideRoute(lead({ email: 'kim@acme.com', grade: 'A1' }), ctx({ excludeOwnerIds: ['bob'] }));
    expect(b).toMatchObject({ via: 'RULE', ownerId: 'ann' });
    expect(b.reason).toContain('is excluded from this routing');

    const c = decideRoute(lead({ email: 'kim@acme.com', grade: 'A1' }), ctx({ accountOwners: new Map([['acme.com', 'ghost']]) }));
    expect(c.via).toBe('RULE');
    expect(c.reason).toContain('names owner "ghost", who is not a known owner');
  });
});

describe('decideRoute: accounts from the CRM', () => {
  const crmOwners = owners.map((o) => (o.id === 'ann' ? { ...o, crmUserIds: { salesforceUserId: '005000000000ANNAAA' } } : o));
  const account = (extra: Partial<CrmAccount> = {}): CrmAccount => ({
    crm: 'salesforce', accountId: '001000000000ACMAAA', name: 'Acme Corporation', domains: ['acme.com'], ownerId: '', crmOwnerId: '005000000000ANNAAA', crmModifiedAt: now, ...extra,
  });
  const withCrm = (accounts: CrmAccount[]) => ctx({ owners: crmOwners, crmAccounts: crmAccountIndex(accounts, crmOwners) });

  it("matches the CRM's account before the file, owner mapped by CRM user id, and names the CRM account in the reason", () => {
    const decision = decideRoute(lead({ email: 'kim@uk.acme.com' }), withCrm([account()]));
    expect(decision).toMatchObject({ via: 'ACCOUNT', ruleId: 'account-match', ownerId: 'ann' });
    expect(decision.reason).toContain('the email domain uk.acme.com belongs to the account acme.com (salesforce account "Acme Corporation"), owned by Ann');
  });

  it('the file still answers for a domain no CRM account names', () => {
    const decision = decideRoute(lead({ email: 'kim@acme.com' }), withCrm([account({ domains: ['initech.io'] })]));
    expect(decision).toMatchObject({ via: 'ACCOUNT', ownerId: 'bob' });
    expect(decision.reason).toContain('belongs to the account acme.com, owned by Bob');
  });

  it('an account whose CRM owner no routing owner carries leaves the lead to the rules, and says so', () => {
    const decision = decideRoute(lead({ email: 'kim@acme.com', grade: 'A1' }), withCrm([account({ crmOwnerId: '005000000000XYZAAA' })]));
    expect(decision.via).toBe('RULE');
    expect(decision.reason).toContain('is owned by salesforce user 005000000000XYZAAA, whom no owner carries as CRM user id');
  });

  it('takes the owner crm-sync mapped, and the account modified last when two name one domain', () => {
    const older = account({ accountId: '001A', ownerId: 'dan', crmOwnerId: '', crmModifiedAt: new Date(now.getTime() - 1000) });
    const newer = account({ accountId: '001B', name: 'Acme Inc', ownerId: 'bob', crmOwnerId: '' });
    const decision = decideRoute(lead({ email: 'kim@acme.com' }), withCrm([newer, older]));
    expect(decision).toMatchObject({ via: 'ACCOUNT', ownerId: 'bob' });
    expect(decision.reason).toContain('"Acme Inc"');
  });
});

describe('decideRoute: input', () => {
  it('rejects a lead without a usable email, naming the field', () => {
    expect(() => decideRoute(lead({ email: 'kim' }), ctx())).toThrow(/^lead\.email: is not an email address \(no domain\)$/);
  });

  it('rejects a negative company size, naming the field', () => {
    expect(() => decideRoute(lead({ companySize: -3 }), ctx())).toThrow(/^lead\.companySize:/);
  });
});
