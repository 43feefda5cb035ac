import { buildJourney, pendingSteps, type JourneyParts } from './journey.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 26, 9, minute));

const parts: JourneyParts = {
  submissions: [
    { receivedAt: at(0), channel: 'web-form', outcome: 'NEW_LEAD', formId: 'contact-sales', consent: true },
    { receivedAt: at(30), channel: 'grpc', outcome: 'EXISTING_CONTACT', consent: false },
  ],
  score: { scoredAt: at(1), grade: 'A1', fitScore: 80, engagementScore: 70, stage: 'MQL', ruleSetVersion: '2026-11-01.1', topReasons: ["Job title 'VP' (+20)"] },
  assignment: { assignedAt: at(2), ownerName: 'Priya Nair', ownerId: 'priya-nair', teamId: 'smb-global', ruleId: 'smb-catch-all', reason: 'Matched rule smb-catch-all.', acceptedAt: at(10) },
  enrollments: [
    { enrolledAt: at(1), trackId: 'contact-sales-confirmation', reason: 'Contact Sales form.', steps: [{ stepId: 'confirmation', status: 'SENT', sentAt: at(1) }] },
    { enrolledAt: at(3), trackId: 'sales-assist-owner-intro', reason: 'Routed to sales.', steps: [{ stepId: 'intro', status: 'DUE', dueAt: at(63) }] },
  ],
  sync: { status: 'SYNCED', crmId: '00Q000000000001', syncedAt: at(4), latencyMs: 240_000, lastError: '', attempts: 1 },
};

describe('buildJourney', () => {
  it('puts every service its part in time order, in plain sentences', () => {
    const steps = buildJourney(parts);
    expect(steps.map((s) => s.occurredAt.getTime())).toEqual([...steps.map((s) => s.occurredAt.getTime())].sort((a, b) => a - b));
    expect(steps.map((s) => s.service)).toEqual(['intake', 'scoring', 'nurture', 'nurture', 'routing', 'nurture', 'crm-sync', 'routing', 'intake']);
    expect(steps[0]!.summary).toBe('First submission through the web form (form contact-sales); marketing consent given.');
    expect(steps.find((s) => s.service === 'scoring')!.summary).toContain('Scored A1 (fit 80, engagement 70), MQL under rule set 2026-11-01.1');
    expect(steps.find((s) => s.service === 'crm-sync')!.summary).toBe('In the CRM as 00Q000000000001, 240000 ms after intake received it.');
    expect(steps.at(-1)!.summary).toBe('Submitted again through the API; marketing consent not given.');
  });

  it('starts with the visits from before the form, stitched to the lead', () => {
    const before = new Date(at(0).getTime() - 120_000);
    const steps = buildJourney({
      ...parts,
      activities: [
        { occurredAt: before, type: 'ACTIVITY_TYPE_PRICING_PAGE_VIEW', url: 'http://127.0.0.1:8081/pricing' },
        { occurredAt: new Date(before.getTime() + 1000), type: 'ACTIVITY_TYPE_FORM_VIEWED', url: 'http://127.0.0.1:8081/contact-sales' },
      ],
    });
    expect(steps.slice(0, 3).map((s) => s.summary)).toEqual([
      'Viewed the pricing page (http://127.0.0.1:8081/pricing).',
      'Saw a form (http://127.0.0.1:8081/contact-sales).',
      'First submission through the web form (form contact-sales); marketing consent given.',
    ]);
  });

  it('leaves out what has not happened yet and lists it as pending', () => {
    const early: JourneyParts = { submissions: parts.submissions.slice(0, 1), enrollments: [], sync: { status: 'FAILED', crmId: '', latencyMs: 0, lastError: 'REQUIRED_FIELD_MISSING', attempts: 3 } };
    expect(buildJourney(early).map((s) => s.service)).toEqual(['intake']);
    expect(pendingSteps(early)).toEqual(['CRM sync failed after 3 attempts: REQUIRED_FIELD_MISSING']);
    expect(pendingSteps(parts)).toEqual(['Email intro of sales-assist-owner-intro due 2026-11-26T10:03:00.000Z']);
  });
});

describe('the CRM part of the journey', () => {
  it('shows each campaign membership and names what sync left for a person to fix', () => {
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 27, 10, minutes));
    const parts: JourneyParts = {
      submissions: [{ receivedAt: at(0), channel: 'web-form', outcome: 'CREATED', consent: true }],
      enrollments: [],
      sync: {
        status: 'SYNCED', crmId: '00Q000000000001', syncedAt: at(1), latencyMs: 600, lastError: '', attempts: 1,
        campaigns: [{ campaignId: '701000000000001AAA', source: 'utm_campaign:spring', status: 'Responded', addedAt: at(1) }],
        issues: [{ code: 'CAMPAIGN_UNKNOWN', message: 'utm_campaign "winter" maps to no CRM campaign' }],
        converted: { contactId: '003000000000001AAA', rule: 'follow', seenAt: at(5) },
      },
    };
    expect(buildJourney(parts).at(-1)?.summary).toBe('Converted by sales in the CRM to Contact 003000000000001AAA; later updates go to the Contact.');
    expect(buildJourney(parts).map((s) => s.summary)).toContain('Member of CRM campaign 701000000000001AAA (Responded), from utm_campaign spring.');
    expect(pendingSteps(parts)).toEqual(['CRM sync note CAMPAIGN_UNKNOWN: utm_campaign "winter" maps to no CRM campaign']);
  });

  it('shows the changes sales made in the CRM that leadmesh took back', () => {
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 27, 10, minutes));
    const parts: JourneyParts = {
      submissions: [{ receivedAt: at(0), channel: 'web-form', outcome: 'CREATED', consent: true }],
      enrollments: [],
      sync: {
        status: 'SYNCED', crmId: '00Q000000000001', syncedAt: at(1), latencyMs: 600, lastError: '', attempts: 1,
        crmChanges: [
          { seenAt: at(3), ownerId: 'marcus-reed', crmOwnerId: '005000000000011AAA', crmStatus: 'Open - Not Contacted', accepted: false, via: 'poll' },
          { seenAt: at(4), ownerId: '', crmOwnerId: '', crmStatus: 'IN_PROGRESS', accepted: true, via: 'webhook' },
          { seenAt: at(5), ownerId: '', crmOwnerId: '81239999', crmStatus: 'IN_PROGRESS', accepted: false, via: 'webhook' },
        ],
      },
    };
    expect(buildJourney(parts).filter((s) => s.occurredAt > at(2)).map((s) => s.summary)).toEqual([
      'Reassigned by sales in the CRM to owner marcus-reed; routing told (seen by polling).',
      'Accepted by sales in the CRM (status IN_PROGRESS); routing told (seen by webhook).',
      'Reassigned by sales in the CRM to CRM user 81239999 (no routing owner known to crm-sync); routing told (seen by webhook).',
    ]);
  });
});
