import { isAvailable, parseOwnerDirectory, type Owner } from './owners.js';

const owner = (overrides: Partial<Owner> = {}): Owner => ({
  id: 'avery',
  name: 'Avery Chen',
  email: 'avery@example.com',
  teamId: 'enterprise',
  territories: [],
  weight: 1,
  capacityPerDay: 10,
  timeZone: 'America/New_York',
  workingHours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' },
  outOfOffice: [],
  active: true,
  ...overrides,
});

describe('isAvailable', () => {
  it('reports an inactive owner as unavailable', () => {
    const result = isAvailable(owner({ active: false }), new Date('2026-11-26T15:00:00Z'));
    expect(result).toEqual({ available: false, reason: 'Avery Chen is inactive' });
  });

  it('judges working hours in the owner time zone, not in UTC', () => {
    // Thursday 12:00 UTC is 07:00 in New York and 13:00 in Berlin.
    const noonUtc = new Date('2026-11-26T12:00:00Z');
    const ny = isAvailable(owner(), noonUtc);
    expect(ny.available).toBe(false);
    expect(ny.reason).toContain('Thu 07:00 in America/New_York');
    expect(ny.reason).toContain('Mon-Fri 08:00-18:00');
    expect(isAvailable(owner({ timeZone: 'Europe/Berlin' }), noonUtc).available).toBe(true);
    expect(isAvailable(owner(), new Date('2026-11-26T13:00:00Z')).available).toBe(true);
  });

  it('follows daylight saving time of the owner zone', () => {
    // 12:30 UTC is 08:30 EDT in July but 07:30 EST in January.
    expect(isAvailable(owner(), new Date('2026-07-15T12:30:00Z')).available).toBe(true);
    expect(isAvailable(owner(), new Date('2026-01-14T12:30:00Z')).available).toBe(false);
  });

  it('uses the weekday of the owner zone', () => {
    const tokyo = owner({ timeZone: 'Asia/Tokyo' });
    // Friday 23:30 UTC is already Saturday 08:30 in Tokyo.
    const saturday = isAvailable(tokyo, new Date('2026-11-27T23:30:00Z'));
    expect(saturday.available).toBe(false);
    expect(saturday.reason).toContain('Sat 08:30');
    expect(isAvailable(tokyo, new Date('2026-11-27T01:00:00Z')).available).toBe(true);
  });

  it('ends the working day at the end time, exclusive', () => {
    expect(isAvailable(owner(), new Date('2026-11-26T22:59:00Z')).available).toBe(true); // 17:59
    expect(isAvailable(owner(), new Date('2026-11-26T23:00:00Z')).available).toBe(false); // 18:00
  });

  it('treats 00:00-24:00 on all seven days as always available', () => {
    const always = owner({ workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' } });
    for (const at of ['2026-11-29T04:59:00Z', '2026-11-29T05:00:00Z', '2026-11-28T04:59:30Z', '2026-11-30T12:00:00Z']) {
      expect(isAvailable(always, new Date(at)).available).toBe(true);
    }
  });

  it('lets a night shift run past midnight into the next day', () => {
    const night = owner({ timeZone: 'UTC', workingHours: { days: [1, 2, 3, 4, 5], start: '22:00', end: '06:00' } });
    expect(isAvailable(night, new Date('2026-11-24T02:00:00Z')).available).toBe(true); // Tue 02:00, Monday's shift
    expect(isAvailable(night, new Date('2026-11-23T02:00:00Z')).available).toBe(false); // Mon 02:00, Sunday is off
    expect(isAvailable(night, new Date('2026-11-28T03:00:00Z')).available).toBe(true); // Sat 03:00, Friday's shift
    expect(isAvailable(night, new Date('2026-11-28T23:00:00Z')).available).toBe(false); // Sat 23:00
    expect(isAvailable(night, new Date('2026-11-26T12:00:00Z')).available).toBe(false); // Thu midday
  });

  it('reports an out-of-office window, which ends at its "to" instant', () => {
    const away = owner({ outOfOffice: [{ from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-27T00:00:00Z') }] });
    const during = isAvailable(away, new Date('2026-11-26T15:00:00Z'));
    expect(during).toEqual({ available: false, reason: 'Avery Chen is out of office until 2026-11-27T00:00:00.000Z' });
    expect(isAvailable(away, new Date('2026-11-19T15:00:00Z')).available).toBe(true);
    expect(isAvailable(away, new Date('2026-11-27T15:00:00Z')).available).toBe(true);
  });
});

describe('parseOwnerDirectory', () => {
  const rawOwner = (extra: Record<string, unknown> = {}) => ({
    id: 'avery',
    name: 'Avery Chen',
    email: 'avery@example.com',
    teamId: 'enterprise',
    territories: ['us', 'EMEA'],
    weight: 2,
    capacityPerDay: 20,
    timeZone: 'America/New_York',
    workingHours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' },
    outOfOffice: [{ from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z' }],
    ...extra,
  });
  const raw = (ownerExtra: Record<string, unknown> = {}) => ({
    version: '1',
    teams: [{ id: 'enterprise', name: 'Enterprise', slaMinutes: 30 }],
    owners: [rawOwner(ownerExtra)],
  });

  it('reads owners with dates, upper-cased territories and active by default', () => {
    const dir = parseOwnerDirectory(raw({ segments: { minCompanySize: 10, industries: ['Retail'] } }));
    const [parsed] = dir.owners;
    expect(parsed?.territories).toEqual(['US', 'EMEA']);
    expect(parsed?.active).toBe(true);
    expect(parsed?.outOfOffice[0]?.to).toEqual(new Date('2027-01-04T00:00:00Z'));
    expect(parsed?.segments).toEqual({ minCompanySize: 10, industries: ['Retail'] });
    expect(dir.teams).toEqual([{ id: 'enterprise', name: 'Enterprise', slaMinutes: 30 }]);
  });

  it.each([
    [{ timeZone: 'Mars/Olympus' }, /owners\[0\]\.timeZone: "Mars\/Olympus" is not an IANA time zone/],
    [{ weight: 0 }, /owners\[0\]\.weight: must be greater than 0/],
    [{ teamId: 'nowhere' }, /owners\[0\]\.teamId: team "nowhere" is not defined/],
    [{ territories: ['Europe'] }, /owners\[0\]\.territories\[0\]: "EUROPE" is neither/],
    [{ workingHours: { days: [1, 8], start: '08:00', end: '18:00' } }, /owners\[0\]\.workingHours\.days\[1\]/],
    [{ workingHours: { days: [1], start: '8am', end: '18:00' } }, /owners\[0\]\.workingHours\.start: expected HH:MM/],
    [{ workingHours: { days: [1], start: '08:00', end: '08:00' } }, /owners\[0\]\.workingHours: start and end must differ/],
    [{ outOfOffice: [{ from: '2026-12-21', to: '2026-12-01' }] }, /owners\[0\]\.outOfOffice\[0\]: "to" must be after "from"/],
    [{ outOfOffice: [{ from: 'soon', to: '2026-12-01' }] }, /owners\[0\]\.outOfOffice\[0\]\.from: expected an ISO 8601/],
    [{ email: 'avery' }, /owners\[0\]\.email: "avery" is not an email address/],
    [{ capacity: 3 }, /owners\[0\]\.capacity: unknown field/],
    [{ segments: { minCompanySize: 500, maxCompanySize: 50 } }, /owners\[0\]\.segments: minCompanySize 500 exceeds/],
  ])('rejects %j naming the field', (extra, message) => {
    expect(() => parseOwnerDirectory(raw(extra))).toThrow(message);
  });

  it('rejects duplicate owner ids', () => {
    const dup = { ...raw(), owners: [rawOwner(), rawOwner()] };
    expect(() => parseOwnerDirectory(dup)).toThrow(/owners\[1\]\.id: duplicate owner id "avery"/);
  });

  it('rejects a team without a positive SLA', () => {
    expect(() => parseOwnerDirectory({ ...raw(), teams: [{ id: 'enterprise', name: 'E', slaMinutes: 0 }] })).toThrow(/teams\[0\]\.slaMinutes/);
  });
});
