import { ownersToSeed, validateAvailabilityChange, validateOwnerChange } from './owner-changes.js';
import type { Owner } from './owners.js';

const teams = [{ id: 'smb-global', name: 'SMB', slaMinutes: 120 }];
const raw = (overrides: Record<string, unknown> = {}) => ({
  id: 'kim-lee',
  name: 'Kim Lee',
  email: 'kim.lee@leadmesh.example',
  teamId: 'smb-global',
  territories: ['emea', 'US'],
  weight: 2,
  capacityPerDay: 30,
  timeZone: 'Europe/Berlin',
  workingHours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '17:00' },
  outOfOffice: [{ from: new Date('2026-12-24T00:00:00Z'), to: new Date('2027-01-02T00:00:00Z') }],
  active: true,
  ...overrides,
});

describe('validateOwnerChange', () => {
  it('accepts a complete owner and normalises territories', () => {
    const owner = validateOwnerChange(raw(), teams);
    expect(owner).toMatchObject({ id: 'kim-lee', teamId: 'smb-global', territories: ['EMEA', 'US'], weight: 2, active: true });
    expect(owner.outOfOffice).toHaveLength(1);
  });

  it.each([
    [{ timeZone: 'Mars/Olympus' }, 'owner.timeZone', /not an IANA time zone/],
    [{ teamId: 'nobody' }, 'owner.teamId', /team "nobody" does not exist/],
    [{ territories: ['XYZ'] }, 'owner.territories[0]', /neither an ISO country code nor a region/],
    [{ weight: 0 }, 'owner.weight', /greater than 0/],
    [{ workingHours: undefined }, 'owner.workingHours', /expected an object/],
    [{ workingHours: { days: [], start: '08:00', end: '17:00' } }, 'owner.workingHours.days', /at least one weekday/],
    [{ workingHours: { days: [1], start: '8am', end: '17:00' } }, 'owner.workingHours.start', /HH:MM/],
    [{ outOfOffice: [{ from: new Date('2027-01-02'), to: new Date('2026-12-24') }] }, 'owner.outOfOffice[0]', /"to" must be after "from"/],
    [{ id: 'Kim Lee' }, 'owner.id', /lower-case/],
  ])('rejects %j naming %s', (override, path, problem) => {
    let error: unknown;
    try {
      validateOwnerChange(raw(override), teams);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ name: 'RoutingConfigError', path });
    expect((error as Error).message).toMatch(problem);
  });
});

describe('validateAvailabilityChange', () => {
  it('takes the active flag and the whole out-of-office calendar', () => {
    const change = validateAvailabilityChange({ ownerId: 'kim-lee', active: false, outOfOffice: [] });
    expect(change).toEqual({ ownerId: 'kim-lee', active: false, outOfOffice: [] });
  });

  it('names the window that ends before it starts', () => {
    expect(() =>
      validateAvailabilityChange({ ownerId: 'kim-lee', active: true, outOfOffice: [{ from: new Date('2026-12-02'), to: new Date('2026-12-01') }] }),
    ).toThrow(/^outOfOffice\[0\]: "to" must be after "from"/);
  });
});

describe('ownersToSeed', () => {
  const owner = (id: string) => validateOwnerChange(raw({ id }), teams) as Owner;
  const file = [owner('ann'), owner('bob')];

  it('adds only missing owners when the store already applied this file version, keeping changes made over gRPC', () => {
    expect(ownersToSeed(file, new Set(['ann']), false).map((o) => o.id)).toEqual(['bob']);
  });

  it('applies every owner of a new file version', () => {
    expect(ownersToSeed(file, new Set(['ann', 'bob']), true).map((o) => o.id)).toEqual(['ann', 'bob']);
  });
});
