import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { crmsync, intake, nurture, routing, scoring } from '@leadmesh/contracts';
import { journeyOf, type LeadState } from './journey.js';

const LEAD = '6f1c2a9e-3b1d-4c55-9a5e-0d1f2e3a4b5c';
const at = (s: number) => timestampFromDate(new Date(Date.UTC(2026, 0, 5, 9, 0, s)));

const fullState = (): LeadState => ({
  leadId: LEAD,
  lead: create(intake.LeadSchema, {
    leadId: LEAD,
    receivedAt: at(0),
    submissionCount: 1,
    profile: {
      contact: { email: 'ada@example-analytics.com', company: 'Example Analytics', country: 'DE' },
      source: { formId: 'contact-sales', utmSource: 'google' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    },
  }),
  score: create(scoring.GetLeadScoreResponseSchema, {
    score: { leadId: LEAD, grade: 'A1', fitScore: 80, engagementScore: 40, lifecycleStage: scoring.LifecycleStage.MQL, ruleSetVersion: '2026.1', scoredAt: at(1), reasons: [{ ruleId: 'title-vp', points: 30, explanation: 'VP title' }, { ruleId: 'free-mail', points: -10 }] },
  }),
  assignment: create(routing.AssignmentSchema, { leadId: LEAD, ownerId: 'maria', ownerName: 'Maria Lopez', teamId: 'emea', ruleId: 'emea-mql', reason: 'MQL in DE goes to EMEA', assignedAt: at(2), slaDueAt: at(900) }),
  enrollments: create(nurture.GetEnrollmentsResponseSchema, {
    enrollments: [{ trackId: 'sales-assist', trackVersion: '3', status: nurture.EnrollmentStatus.ACTIVE, reason: 'routed to sales', enrolledAt: at(3), steps: [
      { template: 'confirmation', status: nurture.StepStatus.SENT, sentAt: at(4), dueAt: at(3) },
      { template: 'day-3-case-study', status: nurture.StepStatus.DUE, dueAt: at(259_200) },
    ] }],
  }),
  sync: create(crmsync.SyncRecordSchema, { leadId: LEAD, status: crmsync.SyncStatus.SYNCED, crmId: '00Q5e00000AbCdE', attempts: 1, syncedAt: at(5), latencyMs: 5_000n }),
  unreachable: [],
});

describe('journeyOf', () => {
  it('tells the lead’s story in time order, with the reasons behind each step', () => {
    const journey = journeyOf(fullState());
    expect(journey.events.map((e) => `${e.service}: ${e.summary}`)).toEqual([
      'intake: lead received (ada@example-analytics.com, Example Analytics, DE)',
      'scoring: scored A1 (fit 80, engagement 40), stage MQL, rule set 2026.1',
      'routing: assigned to Maria Lopez (team emea) by rule emea-mql',
      'nurture: enrolled in track sales-assist v3 (active)',
      'nurture: email confirmation sent',
      'crm-sync: synced to the CRM as 00Q5e00000AbCdE (5000 ms after it was received)',
      'nurture: email day-3-case-study due',
    ]);
    const [received, scored, assigned] = journey.events;
    expect(received!.details).toEqual(['form contact-sales, utm source google', 'email marketing consent: yes (wording 2026-01)']);
    expect(scored!.details).toEqual(['+30 title-vp: VP title', '-10 free-mail']);
    expect(assigned!.details[0]).toBe('MQL in DE goes to EMEA');
    expect(journey.notYet).toEqual([]);
  });

  it('lists earlier scores before the current one as a rescore', () => {
    const state = fullState();
    state.score!.history = [create(scoring.LeadScoreSchema, { grade: 'B3', fitScore: 50, engagementScore: 10, ruleSetVersion: '2025.9', scoredAt: at(1), lifecycleStage: scoring.LifecycleStage.LEAD })];
    state.score!.score!.scoredAt = at(6);
    const summaries = journeyOf(state).events.filter((e) => e.service === 'scoring').map((e) => e.summary);
    expect(summaries).toEqual(['scored B3 (fit 50, engagement 10), stage LEAD, rule set 2025.9', 'rescored A1 (fit 80, engagement 40), stage MQL, rule set 2026.1']);
  });

  it('says which services do not know the lead yet and which could not be asked', () => {
    const state: LeadState = { ...fullState(), assignment: undefined, sync: undefined, enrollments: create(nurture.GetEnrollmentsResponseSchema, {}), unreachable: [{ service: 'crm-sync', error: 'UNAVAILABLE: down' }] };
    const journey = journeyOf(state);
    expect(journey.notYet).toEqual(['routing', 'nurture']);
    expect(journey.unreachable).toEqual([{ service: 'crm-sync', error: 'UNAVAILABLE: down' }]);
    expect(journey.events.some((e) => e.service === 'routing' || e.service === 'crm-sync')).toBe(false);
  });

  it('shows a failed CRM sync with its last error and no date', () => {
    const state = fullState();
    state.sync = create(crmsync.SyncRecordSchema, { leadId: LEAD, status: crmsync.SyncStatus.FAILED, attempts: 3, lastError: 'REQUIRED_FIELD_MISSING: Company' });
    const last = journeyOf(state).events.at(-1)!;
    expect(last).toMatchObject({ service: 'crm-sync', at: undefined, summary: 'CRM sync failed', details: ['3 attempts', 'last error: REQUIRED_FIELD_MISSING: Company'] });
  });
});
