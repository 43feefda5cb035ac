import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { audit, crmsync, intake, parkedevents, scoring, type LeadJourney } from '@leadmesh/client';
import { formatAuditRecords, formatDeadLetters, formatErasure, formatParkedEvents, formatParkedReplay, formatDuration, formatError, formatJourney, formatRescore, formatRuleSets, formatSubmitted, progressLine, table } from './format.js';
import { ProgressReporter } from './progress.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 5, 9, 0, 0) + s * 1000);
const ts = (s: number) => timestampFromDate(t(s));

describe('formatJourney', () => {
  const journey: LeadJourney = {
    leadId: '6f1c2a9e-3b1d-4c55-9a5e-0d1f2e3a4b5c',
    events: [
      { at: t(0), service: 'intake', summary: 'lead received (ada@example.com)', details: ['email marketing consent: yes'] },
      { at: t(0.25), service: 'scoring', summary: 'scored A1', details: ['+30 title-vp'] },
      { at: t(3), service: 'crm-sync', summary: 'synced to the CRM as 00Q1', details: [] },
      { at: undefined, service: 'nurture', summary: 'marketing email suppressed', details: [] },
    ],
    notYet: ['routing'],
    unreachable: [{ service: 'nurture', error: 'UNAVAILABLE: connection refused' }],
  };

  it('prints one aligned line per event with the time since the one before, and the reasons under it', () => {
    expect(formatJourney(journey).split('\n')).toEqual([
      'Journey of lead 6f1c2a9e-3b1d-4c55-9a5e-0d1f2e3a4b5c',
      '',
      '2026-01-05 09:00:00Z  intake    lead received (ada@example.com)',
      '                                · email marketing consent: yes',
      '2026-01-05 09:00:00Z  scoring   scored A1 (+250 ms)',
      '                                · +30 title-vp',
      '2026-01-05 09:00:03Z  crm-sync  synced to the CRM as 00Q1 (+2.8 s)',
      '-                     nurture   marketing email suppressed',
      '',
      'Not yet in: routing',
      'Could not ask nurture: UNAVAILABLE: connection refused',
    ]);
  });

  it('says so when no service knows the lead', () => {
    expect(formatJourney({ leadId: 'x', events: [], notYet: ['intake'], unreachable: [] })).toContain('No service knows this lead.');
  });
});

describe('tables and lists', () => {
  it('pads columns to the widest cell', () => {
    expect(table(['A', 'LONG HEADER'], [['wide cell', 'x'], ['y', 'z']])).toBe('A          LONG HEADER\nwide cell  x\ny          z');
  });

  it('lists dead letters with a one-line error and a count', () => {
    const text = formatDeadLetters([
      create(crmsync.DeadLetterSchema, { leadId: 'l-1', error: 'FIELD_INTEGRITY_EXCEPTION:\n  Company is required', attempts: 3, failedAt: ts(60), subject: 'leadmesh.lead.routed' }),
    ]);
    expect(text).toContain('l-1   2026-01-05 09:01:00Z  3         leadmesh.lead.routed  FIELD_INTEGRITY_EXCEPTION: Company is required');
    expect(text).toMatch(/1 dead letter$/);
    expect(formatDeadLetters([])).toBe('No dead letters.');
  });

  it("lists a service's parked events with their consumer, lead and error, and what a replay left parked", () => {
    const parked = create(parkedevents.ParkedEventSchema, {
      sequence: 17n, consumer: 'scoring-lead-received', leadId: 'l-2', error: 'rule "fit.country"\nthrew', deliveries: 6, parkedAt: ts(120), subject: 'leadmesh.lead.received',
    });
    const text = formatParkedEvents('scoring', [parked]);
    expect(text).toContain('17   2026-01-05 09:02:00Z  scoring-lead-received  l-2   6           rule "fit.country" threw');
    expect(text).toMatch(/1 parked event in scoring$/);
    expect(formatParkedEvents('routing', [])).toBe('routing has no parked events.');
    expect(formatParkedReplay(create(parkedevents.ReplayParkedEventsResponseSchema, { replayed: 2, failed: 1, stillParked: [parked] })).split('\n')).toEqual([
      'replayed 2, failed again 1',
      '  17 scoring-lead-received l-2: rule "fit.country" threw',
    ]);
  });

  it('marks the active rule set', () => {
    const text = formatRuleSets(create(scoring.ListRuleSetsResponseSchema, {
      activeVersion: '2026.2',
      ruleSets: [
        { version: '2026.1', description: 'launch rules', publishedAt: ts(0), activatedAt: ts(10) },
        { version: '2026.2', description: 'pricing page counts more', active: true, publishedAt: ts(100), activatedAt: ts(200) },
      ],
    }));
    const lines = text.split('\n');
    expect(lines[2]).toBe('*  2026.2   2026-01-05 09:01:40Z  2026-01-05 09:03:20Z  pricing page counts more');
    expect(lines.at(-1)).toBe('active: 2026.2');
  });

  it('explains a submission outcome', () => {
    const text = formatSubmitted(create(intake.SubmitLeadResponseSchema, { leadId: 'l-9', submissionId: 's-1', outcome: intake.SubmissionOutcome.EXISTING_CONTACT, receivedAt: ts(0) }));
    expect(text).toBe('lead l-9\n  new submission on an existing lead (same email)\n  submission s-1, received 2026-01-05 09:00:00Z');
  });
});

describe('progress', () => {
  it('draws a bar with the count and share', () => {
    expect(progressLine('rescoring with 2026.2', 120, 240, 10)).toBe('rescoring with 2026.2  [#####.....]  120/240  50%');
    expect(progressLine('replaying', 0, 0, 4)).toBe('replaying  [####]  0/0  100%');
  });

  it('shows a running rescore as progress and a finished one as a summary', () => {
    expect(formatRescore(create(scoring.RescoreJobSchema, { jobId: 'j1', ruleSetVersion: '2026.2', total: 4, done: 1 }))).toBe('rescoring with 2026.2  [#####...............]  1/4  25%');
    expect(formatRescore(create(scoring.RescoreJobSchema, { jobId: 'j1', ruleSetVersion: '2026.2', total: 4, done: 4, finished: true, startedAt: ts(0), finishedAt: ts(1.5) })))
      .toBe('rescored 4 of 4 leads with 2026.2 in 1.5 s (job j1)');
  });

  it('redraws one line on a terminal and prints only changes to a log', () => {
    const tty: string[] = [];
    const onTty = new ProgressReporter({ write: (s) => tty.push(s), isTTY: true });
    onTty.update('a');
    onTty.update('a');
    onTty.update('b');
    onTty.done();
    expect(tty).toEqual(['\r\x1b[2Ka', '\r\x1b[2Kb', '\n']);
    const log: string[] = [];
    const toLog = new ProgressReporter({ write: (s) => log.push(s) });
    toLog.update('a');
    toLog.update('a');
    toLog.done('b');
    expect(log).toEqual(['a\n', 'b\n']);
  });

  it('writes durations at a readable scale', () => {
    expect([999, 1_500, 125_000, 7_260_000].map(formatDuration)).toEqual(['999 ms', '1.5 s', '2 min 5 s', '2 h 1 min']);
  });
});

describe('formatError', () => {
  it('names the status and what the server said', () => {
    const err = Object.assign(new Error('3 INVALID_ARGUMENT: contact.email: value must be a valid email address'), { code: grpc.status.INVALID_ARGUMENT, details: 'contact.email: value must be a valid email address', metadata: new grpc.Metadata() });
    expect(formatError(err, 'submit')).toBe('submit: INVALID_ARGUMENT: contact.email: value must be a valid email address');
    expect(formatError(new Error('boom'))).toBe('boom');
  });
});

describe('formatErasure', () => {
  it('lists each service with when it finished erasing', () => {
    const text = formatErasure(create(intake.GetErasureResponseSchema, {
      erasureId: 'e-1',
      completed: false,
      services: [
        { service: 'intake', completed: true, completedAt: ts(1) },
        { service: 'crm-sync', completed: false },
      ],
    }));
    expect(text.split('\n')).toEqual([
      'erasure e-1 in progress',
      'SERVICE   STATUS   AT',
      'intake    erased   2026-01-05 09:00:01Z',
      'crm-sync  pending  -',
    ]);
  });
});

describe('formatAuditRecords', () => {
  it("lists a service's privileged calls with who, what, on what and how it ended", () => {
    const record = create(audit.AuditRecordSchema, {
      recordId: 'r-1', service: 'scoring', method: 'leadmesh.scoring.v1.ScoringService/ActivateRuleSet', caller: 'user:mia', target: 'version=2026-11-27', outcome: 'OK', calledAt: timestampFromDate(new Date('2026-11-27T10:00:00Z')),
    });
    const text = formatAuditRecords('scoring', [record, create(audit.AuditRecordSchema, { ...record, target: '', outcome: 'NOT_FOUND' })]);
    expect(text.split('\n')[1]).toMatch(/^2026-11-27 10:00:00Z\s+user:mia\s+ActivateRuleSet\s+version=2026-11-27\s+OK$/);
    expect(text.split('\n')[2]).toMatch(/ActivateRuleSet\s+-\s+NOT_FOUND$/);
    expect(text).toMatch(/2 privileged calls in scoring, newest first$/);
    expect(formatAuditRecords('routing', [])).toBe('routing has no audit records.');
  });
});
