import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { events, lead } from '@leadmesh/contracts';
import { loadFieldMapping } from './crm/mapping-files.js';
import { mapToCrm, type FieldMapping } from './domain/field-mapping.js';
import { mergeLeadState, type LeadState } from './domain/lead-state.js';
import { stateOf, type LeadEvent } from './lead-events.js';
import { NoLeadStateError, toSnapshot } from './lead-snapshot.js';

const LEAD_ID = '7d1f8a52-2f4e-4f0e-9a43-8f2b3c5d6e7f';
const ts = (iso: string) => timestampFromDate(new Date(iso));
const profile = lead.LeadProfileSchema;

const leadProfile = create(profile, {
  contact: { email: 'ada@example-analytics.com', firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics', country: 'DE' },
  source: { formId: 'contact-sales', utmSource: 'google', utmMedium: 'cpc' },
  consent: { emailMarketing: true },
  receivedAt: ts('2026-03-01T09:59:58Z'),
});
const scoreAt = (grade: string, fit: number, iso: string) =>
  create(lead.LeadScoreSchema, { leadId: LEAD_ID, grade, fitScore: fit, engagementScore: 10, lifecycleStage: lead.LifecycleStage.LEAD, ruleSetVersion: '3', scoredAt: ts(iso) });
const assignment = create(lead.AssignmentSchema, { leadId: LEAD_ID, ownerId: 'avery-chen', ownerName: 'Avery Chen', teamId: 'emea', assignedAt: ts('2026-03-01T10:00:01Z') });

const routed: LeadEvent = {
  kind: 'routed',
  event: create(events.LeadRoutedSchema, { eventId: 'r1', leadId: LEAD_ID, occurredAt: ts('2026-03-01T10:00:01Z'), profile: leadProfile, score: scoreAt('B2', 60, '2026-03-01T10:00:00Z'), assignment }),
};
const scored = (grade: string, fit: number, iso: string): LeadEvent => ({
  kind: 'scored',
  event: create(events.LeadScoredSchema, { eventId: `s-${iso}`, leadId: LEAD_ID, occurredAt: ts(iso), profile: leadProfile, score: scoreAt(grade, fit, iso) }),
});
const enrolled: LeadEvent = {
  kind: 'enrolled',
  event: create(events.NurtureEnrolledSchema, {
    eventId: 'n1',
    leadId: LEAD_ID,
    occurredAt: ts('2026-03-01T10:00:02Z'),
    trackId: 'sales-assist-emea',
    trackVersion: '2',
    enrollment: { trackId: 'sales-assist-emea', trackVersion: '2', status: lead.EnrollmentStatus.ACTIVE, enrolledAt: ts('2026-03-01T10:00:02Z') },
  }),
};
const unsubscribed: LeadEvent = { kind: 'unsubscribed', event: create(events.LeadUnsubscribedSchema, { eventId: 'u1', leadId: LEAD_ID, occurredAt: ts('2026-03-02T08:00:00Z') }) };

let mapping: FieldMapping;
beforeAll(async () => {
  mapping = await loadFieldMapping('salesforce');
});

const crmFields = (state: LeadState | undefined) => mapToCrm(toSnapshot(LEAD_ID, state), mapping);
const replay = (list: LeadEvent[]) => list.reduce<LeadState | undefined>((s, e) => mergeLeadState(s, stateOf(e)), undefined);

describe('the CRM record built from events alone', () => {
  it('carries the owner, the score, the track and the reception time the events delivered', () => {
    const fields = crmFields(replay([routed, enrolled]));
    expect(fields).toMatchObject({
      Leadmesh_Lead_Id__c: LEAD_ID,
      Email: 'ada@example-analytics.com',
      Country: 'DE',
      Lead_Grade__c: 'B2',
      Fit_Score__c: 60,
      Leadmesh_Owner_Name__c: 'Avery Chen',
      Leadmesh_Team__c: 'emea',
      Nurture_Track__c: 'sales-assist-emea',
      Leadmesh_Received_At__c: '2026-03-01T09:59:58.000Z',
      HasOptedOutOfEmail: false,
    });
  });

  it('does not roll the CRM fields back when an older lead.scored arrives after a newer one', () => {
    const newer = scored('A1', 90, '2026-03-01T10:05:00Z');
    const older = scored('C3', 20, '2026-03-01T10:03:00Z');
    const inOrder = crmFields(replay([routed, older, newer]));
    const outOfOrder = crmFields(replay([routed, newer, older]));
    expect(outOfOrder).toEqual(inOrder);
    expect(outOfOrder).toMatchObject({ Lead_Grade__c: 'A1', Fit_Score__c: 90 });
  });

  it('keeps a rescore that overtook lead.routed: the score routing decided on is older', () => {
    const rescore = scored('A1', 90, '2026-03-01T10:00:00.500Z');
    expect(crmFields(replay([rescore, routed]))).toMatchObject({ Lead_Grade__c: 'A1', Fit_Score__c: 90, Leadmesh_Owner_Name__c: 'Avery Chen' });
  });

  it('withdraws consent for good once the lead unsubscribed, even before it was routed', () => {
    expect(crmFields(replay([unsubscribed, routed, scored('A1', 90, '2026-03-03T10:00:00Z')]))).toMatchObject({ HasOptedOutOfEmail: true });
  });

  it('reads a nurture.enrolled from before the enrollment summary by its track alone', () => {
    const legacy: LeadEvent = { kind: 'enrolled', event: create(events.NurtureEnrolledSchema, { eventId: 'n0', leadId: LEAD_ID, occurredAt: ts('2026-03-01T10:00:02Z'), trackId: 'webinar-followup', trackVersion: '1' }) };
    expect(crmFields(replay([routed, legacy]))).toMatchObject({ Nurture_Track__c: 'webinar-followup' });
  });

  it('says so when no event has brought the profile yet', () => {
    expect(() => toSnapshot(LEAD_ID, replay([enrolled]))).toThrow(NoLeadStateError);
  });
});
