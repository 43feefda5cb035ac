import { acceptedStatuses, changeFieldsOf, detectCrmChange, type CrmRecordSeen } from './crm-changes.js';
import type { FieldMapping } from './field-mapping.js';

const salesforce: FieldMapping = {
  version: 4,
  crm: 'salesforce',
  fields: [
    { from: 'leadId', to: 'Leadmesh_Lead_Id__c', direction: 'TO_CRM' },
    { from: 'score.lifecycleStage', to: 'Status', direction: 'TO_CRM', values: { lead: 'Open - Not Contacted', mql: 'Working - Contacted' } },
    { from: 'assignment.salesforceUserId', to: 'OwnerId', direction: 'TO_CRM', ownedBy: 'crm' },
  ],
};
const fields = changeFieldsOf(salesforce);
const ACCEPTED = ['Accepted', 'Qualified'];
const seenRecord = (values: Record<string, unknown>): CrmRecordSeen => ({ crmId: '00QABC', leadId: 'lead-1', values, modifiedAt: new Date('2026-11-27T10:00:00Z') });
const written = { OwnerId: '005000000000010AAA', Status: 'Working - Contacted' };

describe('changeFieldsOf', () => {
  it("reads the owner and status fields from the mapping", () => {
    expect(fields).toEqual({ owner: 'OwnerId', status: 'Status' });
    expect(changeFieldsOf({ version: 3, crm: 'hubspot', fields: [{ from: 'assignment.hubspotOwnerId', to: 'hubspot_owner_id', direction: 'TO_CRM' }, { from: 'score.lifecycleStage', to: 'hs_lead_status', direction: 'TO_CRM' }] })).toEqual({ owner: 'hubspot_owner_id', status: 'hs_lead_status' });
  });
});

describe('detectCrmChange', () => {
  it("takes back nothing of leadmesh's own write coming back from the CRM", () => {
    expect(detectCrmChange(seenRecord({ ...written }), fields, written, undefined, ACCEPTED)).toBeUndefined();
  });

  it('takes back an owner sales set, once', () => {
    const change = detectCrmChange(seenRecord({ ...written, OwnerId: '005000000000011AAA' }), fields, written, undefined, ACCEPTED);
    expect(change).toEqual({ ownerChanged: true, crmOwnerId: '005000000000011AAA', crmStatus: 'Working - Contacted', accepted: false, seen: { owner: '005000000000011AAA' } });
    expect(detectCrmChange(seenRecord({ ...written, OwnerId: '005000000000011AAA' }), fields, written, change!.seen, ACCEPTED)).toBeUndefined();
  });

  it('takes back a status that means accepted, once, and no other status', () => {
    const change = detectCrmChange(seenRecord({ ...written, Status: 'Accepted' }), fields, written, undefined, ACCEPTED);
    expect(change).toMatchObject({ ownerChanged: false, accepted: true, crmStatus: 'Accepted', seen: { status: 'Accepted' } });
    expect(detectCrmChange(seenRecord({ ...written, Status: 'Accepted' }), fields, written, change!.seen, ACCEPTED)).toBeUndefined();
    expect(detectCrmChange(seenRecord({ ...written, Status: 'Closed - Not Converted' }), fields, written, undefined, ACCEPTED)).toBeUndefined();
  });

  it('takes back both when sales reassigned and accepted in one edit, and a move back to the owner leadmesh no longer holds', () => {
    expect(detectCrmChange(seenRecord({ OwnerId: '005000000000011AAA', Status: 'Qualified' }), fields, written, undefined, ACCEPTED)).toMatchObject({ ownerChanged: true, accepted: true });
    // leadmesh since wrote ...11 (routing followed the CRM); sales moves it back to ...10.
    expect(detectCrmChange(seenRecord({ ...written }), fields, { ...written, OwnerId: '005000000000011AAA' }, { owner: '005000000000011AAA' }, ACCEPTED)).toMatchObject({ ownerChanged: true, crmOwnerId: '005000000000010AAA' });
  });

  it('sees an empty owner or status as no change', () => {
    expect(detectCrmChange(seenRecord({ OwnerId: null, Status: '' }), fields, written, undefined, ACCEPTED)).toBeUndefined();
  });
});

describe('acceptedStatuses', () => {
  it("defaults per CRM and reads CRM_ACCEPTED_STATUSES", () => {
    expect(acceptedStatuses(undefined, salesforce)).toEqual(['Accepted', 'Qualified', 'Closed - Converted']);
    expect(acceptedStatuses(' Sales Accepted , Qualified ', salesforce)).toEqual(['Sales Accepted', 'Qualified']);
  });

  it('refuses a status leadmesh writes itself', () => {
    expect(() => acceptedStatuses('Accepted,Working - Contacted', salesforce)).toThrow(/"Working - Contacted" is a status leadmesh writes to Status/);
  });
});
