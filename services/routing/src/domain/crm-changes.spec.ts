import { acceptance, ownerForCrmUser, planCrmChange } from './crm-changes.js';
import type { Owner } from './owners.js';

const owner = (id: string, crmUserIds?: Owner['crmUserIds']) => ({ id, name: id, teamId: 'enterprise-emea', ...(crmUserIds && { crmUserIds }) }) as unknown as Owner;
const owners = [owner('avery-chen', { salesforceUserId: '005000000000010AAA', hubspotOwnerId: '81234567' }), owner('marcus-reed', { salesforceUserId: '005000000000011AAA' })];

describe('ownerForCrmUser', () => {
  it("takes the owner crm-sync mapped, else the owner whose CRM user id in that CRM it is", () => {
    expect(ownerForCrmUser(owners, 'salesforce', 'marcus-reed', '005000000000010AAA')?.id).toBe('marcus-reed');
    expect(ownerForCrmUser(owners, 'salesforce', '', '005000000000011AAA')?.id).toBe('marcus-reed');
    expect(ownerForCrmUser(owners, 'hubspot', '', '81234567')?.id).toBe('avery-chen');
  });

  it('knows no owner for a CRM user no owner has in that CRM', () => {
    expect(ownerForCrmUser(owners, 'hubspot', '', '005000000000011AAA')).toBeUndefined();
    expect(ownerForCrmUser(owners, 'salesforce', 'left-the-company', '005000000000099AAA')).toBeUndefined();
    expect(ownerForCrmUser(owners, 'salesforce', '', '')).toBeUndefined();
  });
});

describe('planCrmChange', () => {
  it('moves the lead to another owner and records an acceptance once', () => {
    expect(planCrmChange({ ownerId: 'avery-chen', accepted: false }, { newOwnerId: 'marcus-reed', accepted: false })).toEqual({ reassignTo: 'marcus-reed', accept: false });
    expect(planCrmChange({ ownerId: 'avery-chen', accepted: false }, { accepted: true })).toEqual({ accept: true });
    expect(planCrmChange({ ownerId: 'avery-chen', accepted: true }, { accepted: true })).toEqual({ accept: false });
  });

  it('changes nothing for the owner the lead already has', () => {
    expect(planCrmChange({ ownerId: 'avery-chen', accepted: false }, { newOwnerId: 'avery-chen', accepted: false })).toEqual({ accept: false });
  });

  it("makes an accepted lead the new owner's to accept after a reassignment, which the same change may do", () => {
    expect(planCrmChange({ ownerId: 'avery-chen', accepted: true }, { newOwnerId: 'marcus-reed', accepted: true })).toEqual({ reassignTo: 'marcus-reed', accept: true });
  });
});

describe('acceptance', () => {
  it('stops the SLA checks and says who accepted and how', () => {
    const at = '2026-11-27T10:00:00Z';
    expect(acceptance('avery-chen', at, { ownerId: 'avery-chen' }, 'crm')).toEqual({
      set: { acceptedAt: new Date(at), nextSlaCheckAt: null, assignment: { ownerId: 'avery-chen', acceptedAt: at } },
      history: { kind: 'accepted', ownerId: 'avery-chen', acceptedAt: at, via: 'crm' },
    });
  });
});
