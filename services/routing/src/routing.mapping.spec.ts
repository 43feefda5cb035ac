import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { routing } from '@leadmesh/contracts';
import { validateOwnerChange } from './domain/index.js';
import { ownerFromProto, ownerToProto, protoFieldPath, toAssignment } from './routing.mapping.js';

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
      crmUserIds: { salesforceUserId: '005Dn00000LMO42AAA', hubspotOwnerId: '' },
    });
    const owner = validateOwnerChange(ownerFromProto(proto), [{ id: 'smb-global', name: 'SMB', slaMinutes: 120 }]);
    expect(owner.segments).toEqual({ minCompanySize: 10, industries: ['Retail'] });
    // An empty id is no user in that CRM, not an error.
    expect(owner.crmUserIds).toEqual({ salesforceUserId: '005Dn00000LMO42AAA' });
    expect(create(routing.OwnerSchema, ownerToProto(owner))).toEqual(proto);
  });

  it('refuses a CRM user id of the wrong shape, naming the field', () => {
    const base = { ownerId: 'kim-lee', name: 'Kim Lee', email: 'kim.lee@leadmesh.example', teamId: 'smb-global', weight: 1, timeZone: 'Europe/Berlin', workingHours: { days: [1], start: '09:00', end: '17:00' }, active: true };
    const teams = [{ id: 'smb-global', name: 'SMB', slaMinutes: 120 }];
    expect(() => validateOwnerChange(ownerFromProto(create(routing.OwnerSchema, { ...base, crmUserIds: { salesforceUserId: '00QDn00000LMO42AAA' } })), teams)).toThrow(/owner\.crmUserIds\.salesforceUserId.*not a Salesforce User Id/);
    expect(() => validateOwnerChange(ownerFromProto(create(routing.OwnerSchema, { ...base, crmUserIds: { hubspotOwnerId: 'avery' } })), teams)).toThrow(/owner\.crmUserIds\.hubspotOwnerId.*not a HubSpot owner id/);
  });
});

describe('toAssignment', () => {
  it("carries the owner's email and CRM user ids, so crm-sync can set the CRM owner from the event alone", () => {
    const owner = validateOwnerChange(
      ownerFromProto(create(routing.OwnerSchema, { ownerId: 'kim-lee', name: 'Kim Lee', email: 'kim.lee@leadmesh.example', teamId: 'smb-global', weight: 1, timeZone: 'Europe/Berlin', workingHours: { days: [1], start: '09:00', end: '17:00' }, active: true, crmUserIds: { salesforceUserId: '005Dn00000LMO42AAA', hubspotOwnerId: '81234599' } })),
      [{ id: 'smb-global', name: 'SMB', slaMinutes: 120 }],
    );
    const decision = { ownerId: 'kim-lee', teamId: 'smb-global', ruleId: 'smb', reason: 'SMB round robin.' } as Parameters<typeof toAssignment>[1];
    const assignment = toAssignment('lead-1', decision, [owner], { assignedAt: new Date('2026-11-27T10:00:00Z') });
    expect(assignment).toMatchObject({ ownerId: 'kim-lee', ownerEmail: 'kim.lee@leadmesh.example', ownerCrmUserIds: { salesforceUserId: '005Dn00000LMO42AAA', hubspotOwnerId: '81234599' } });
    const unknown = toAssignment('lead-1', { ...decision, ownerId: 'gone' }, [owner], { assignedAt: new Date('2026-11-27T10:00:00Z') });
    expect(unknown.ownerCrmUserIds).toEqual({ salesforceUserId: '', hubspotOwnerId: '' });
  });
});
