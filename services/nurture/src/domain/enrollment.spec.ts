import { confirmationTrackFor, enroll, exitEnrollments, NO_EVENTS } from './enrollment.js';
import { recommendTrack, type NurtureLead } from './recommend.js';
import { parseTrack, type Track } from './tracks.js';

const track = (raw: Record<string, unknown>): Track =>
  parseTrack({
    version: 1,
    name: raw.id,
    priority: 0,
    steps: [{ id: 'day-0', delay: { days: 0 }, template: 't', subject: 's' }],
    ...raw,
    exit: { onUnsubscribe: true, onBounce: true, ...(raw.exit as object) },
  });

const confirmation = track({ id: 'confirm', kind: 'TRANSACTIONAL', entry: { sources: ['contact-sales'] } });
const general = track({
  id: 'general',
  kind: 'MARKETING',
  entry: {},
  exit: { onRoutedToSales: true },
  steps: [
    { id: 'day-0', delay: { days: 0 }, template: 't', subject: 's' },
    { id: 'day-3', delay: { days: 3 }, template: 't', subject: 's' },
  ],
});
const assist = track({ id: 'assist', kind: 'SALES_ASSIST', entry: { routedToSales: true } });
const tracks = [confirmation, general, assist];
const lead: NurtureLead = { email: 'ada@example.com', routedToSales: false };
const at = new Date('2026-03-02T09:00:00Z');

describe('confirmationTrackFor', () => {
  it('enrolls a Contact Sales submission in the transactional track, matching the form id in any case', () => {
    expect(confirmationTrackFor({ formId: ' Contact-Sales ' }, tracks)?.track.id).toBe('confirm');
    expect(confirmationTrackFor({ formId: 'contact-sales' }, tracks)?.reason).toMatch(/confirms the person's own request/);
  });

  it('ignores other forms, missing form ids, and a campaign tag that happens to read contact-sales', () => {
    expect(confirmationTrackFor({ formId: 'newsletter' }, tracks)).toBeUndefined();
    expect(confirmationTrackFor({}, tracks)).toBeUndefined();
    expect(confirmationTrackFor({ ...lead, utmSource: 'contact-sales' }, tracks)).toBeUndefined();
  });
});

describe('enroll', () => {
  it('plans every step from the moment of enrollment, shrunk by the scale', () => {
    const recommendation = recommendTrack(lead, tracks)!;
    expect(enroll(recommendation, at).steps.map((s) => s.dueAt.toISOString())).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-05T09:00:00.000Z']);
    const fast = enroll(recommendation, at, 1000 / 86_400_000);
    expect(fast.steps.map((s) => s.dueAt.getTime() - at.getTime())).toEqual([0, 3000]);
    expect(fast).toMatchObject({ trackId: 'general', kind: 'MARKETING', status: 'ACTIVE', enrolledAt: at });
  });

  it('refuses a scale that is not a positive number', () => {
    const recommendation = recommendTrack(lead, tracks)!;
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => enroll(recommendation, at, scale)).toThrow(/scale/);
  });
});

describe('exitEnrollments', () => {
  const enrolled = [enroll(confirmationTrackFor({ formId: 'contact-sales' }, tracks)!, at), enroll(recommendTrack(lead, tracks)!, at)];

  it('takes a lead routed to sales out of marketing, keeps the confirmation, and says why', () => {
    const later = new Date(at.getTime() + 60_000);
    const { enrollments, exited } = exitEnrollments(enrolled, tracks, { ...lead, routedToSales: true }, { ...NO_EVENTS, routedToSales: true }, later);
    expect(exited.map((e) => e.trackId)).toEqual(['general']);
    expect(enrollments.map((e) => e.status)).toEqual(['ACTIVE', 'EXITED']);
    expect(enrollments[1]).toMatchObject({ exitedAt: later, exitReason: expect.stringMatching(/routed to sales/) });
    expect(enrolled[1]!.status).toBe('ACTIVE');
  });

  it('ends every track on an unsubscribe and leaves already ended enrollments as they were', () => {
    const once = exitEnrollments(enrolled, tracks, lead, { ...NO_EVENTS, unsubscribed: true }, at);
    expect(once.enrollments.every((e) => e.status === 'EXITED' && /unsubscribed/.test(e.exitReason ?? ''))).toBe(true);
    const twice = exitEnrollments(once.enrollments, tracks, lead, { ...NO_EVENTS, bounced: true }, at);
    expect(twice.exited).toEqual([]);
    expect(twice.enrollments).toEqual(once.enrollments);
  });

  it('still ends an enrollment whose track file is gone when the person unsubscribes', () => {
    const { exited } = exitEnrollments(enrolled, [], lead, { ...NO_EVENTS, unsubscribed: true }, at);
    expect(exited).toHaveLength(2);
  });

  it('changes nothing when nothing happened', () => {
    expect(exitEnrollments(enrolled, tracks, lead, NO_EVENTS, at).exited).toEqual([]);
  });
});
