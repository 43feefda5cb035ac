import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { routing } from '@leadmesh/contracts';
import { validateOwnerChange } from './domain/index.js';
import { ownerFromProto, ownerToProto, protoFieldPath } from './routing.mapping.js';

describe('protoFieldPath', () => {
  it.each([
    ['owner.timeZone', 'owner.time_zone'],
    ['owner.id', 'owner.owner_id'],
    ['owner.teamId', 'owner.team_id'],
    ['owner.workingHours.days[0]', 'owner.working_hours.days[0]'],
    ['owner.outOfOffice[1].to', 'owner.out_of_office[1].to'],
    ['ownerId', 'owner_id'],
  ])('%s -> %s', (domain, proto) => expect(protoFieldPath(domain)).toBe(proto));
});

describe('owner mapping', () => {
  it('round-trips an owner through the proto and the domain validation', () => {
    const proto = create(routing.OwnerSchema, {
      ownerId: 'kim-lee',
      name: 'Kim Lee',
      email: 'kim.lee@leadmesh.example',
      teamId: 'smb-global',
      territories: ['DE'],
      weight: 2,
      capacityPerDay: 30,
      timeZone: 'Europe/Berlin',
      workingHours: { days: [1, 2, 3], start: '09:00', end: '17:00' },
      outOfOffice: [{ from: timestampFromDate(new Date('2026-12-24T00:00:00Z')), to: timestampFromDate(new Date('2027-01-02T00:00:00Z')) }],
      active: true,
      segments: { minCompanySize: 10, industries: ['Retail'] },
    });
    const owner = validateOwnerChange(ownerFromProto(proto), [{ id: 'smb-global', name: 'SMB', slaMinutes: 120 }]);
    expect(owner.segments).toEqual({ minCompanySize: 10, industries: ['Retail'] });
    expect(create(routing.OwnerSchema, ownerToProto(owner))).toEqual(proto);
  });
});
