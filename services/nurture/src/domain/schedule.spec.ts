import { planSteps, retryDelayMs, SEND_RETRY, takeDueSteps, type ScheduledEnrollment } from './schedule.js';
import { parseTrack } from './tracks.js';

const DAY = 24 * 60 * 60 * 1000;

const track = parseTrack({
  id: 'marketing-nurture-general',
  version: '1',
  name: 'General',
  kind: 'MARKETING',
  exit: { onUnsubscribe: true, onBounce: true },
  priority: 0,
  steps: [
    { id: 'day-0', delay: {}, template: 'nurture-welcome', subject: 'Welcome' },
    { id: 'day-3', delay: { days: 3 }, template: 'nurture-customer-stories', subject: 'Stories' },
    { id: 'day-7', delay: { days: 7 }, template: 'nurture-demo-invite', subject: 'Demo' },
    { id: 'day-7-evening', delay: { days: 7, hours: 9, minutes: 30 }, template: 'nurture-demo-invite', subject: 'Later' },
  ],
});

describe('planSteps', () => {
  const enrolledAt = new Date('2026-03-27T10:15:00.000Z');

  it('counts every delay from enrollment: day 0, day 3, day 7', () => {
    const plan = planSteps(track, enrolledAt);
    expect(plan.map((s) => s.dueAt.getTime() - enrolledAt.getTime())).toEqual([0, 3 * DAY, 7 * DAY, 7 * DAY + (9 * 60 + 30) * 60_000]);
  });

  it('carries the step id, template and subject into the plan', () => {
    expect(planSteps(track, enrolledAt)[1]).toEqual({
      stepId: 'day-3',
      template: 'nurture-customer-stories',
      subject: 'Stories',
      dueAt: new Date('2026-03-30T10:15:00.000Z'),
    });
  });

  it('uses 24-hour days, so a daylight-saving change does not move the send time in UTC', () => {
    // 29 March 2026 is the EU switch to summer time; UTC does not care.
    expect(planSteps(track, enrolledAt)[2]?.dueAt.toISOString()).toBe('2026-04-03T10:15:00.000Z');
  });

  it('does not share or mutate the enrollment date', () => {
    const before = enrolledAt.getTime();
    const plan = planSteps(track, enrolledAt);
    plan[0]!.dueAt.setTime(0);
    expect(enrolledAt.getTime()).toBe(before);
  });

  it('refuses an invalid enrollment date', () => {
    expect(() => planSteps(track, new Date('not a date'))).toThrow(/enrolledAt/);
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base delay', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
  });

  it('never exceeds the cap, even for absurd attempt numbers', () => {
    expect(retryDelayMs(8)).toBe(SEND_RETRY.capMs);
    expect(retryDelayMs(10_000)).toBe(SEND_RETRY.capMs);
  });

  it('never shrinks as attempts grow and gives the same answer every time', () => {
    for (let attempt = 1; attempt < 40; attempt++) {
      expect(retryDelayMs(attempt + 1)).toBeGreaterThanOrEqual(retryDelayMs(attempt));
      expect(retryDelayMs(attempt)).toBe(retryDelayMs(attempt));
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses attempt %p', (attempt) => {
    expect(() => retryDelayMs(attempt)).toThrow(/attempt: must be an integer >= 1/);
  });
});

describe('takeDueSteps', () => {
  const now = new Date('2026-03-27T10:15:00.000Z');
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  const enrollment = (trackId: string, days: number[], status: ScheduledEnrollment['status'] = 'ACTIVE'): ScheduledEnrollment => ({
    trackId,
    status,
    steps: days.map((d) => ({ stepId: `day-${d}`, template: 't', subject: 's', dueAt: at(d) })),
  });
  const ids = (r: ReturnType<typeof takeDueSteps>) => r.due.map((d) => `${d.trackId}/${d.step.stepId}`);

  it('hands over the steps of a track just entered that are due now, and marks the next one', () => {
    const result = takeDueSteps([enrollment('general', [0, 3, 7])], undefined, new Set(['general']), now);
    expect(ids(result)).toEqual(['general/day-0']);
    expect(result.nextStepAt).toEqual(at(3));
  });

  it('treats steps before the mark as handed over already, and those at or after it as pending', () => {
    const general = enrollment('general', [-7, -4, 0, 3]);
    expect(ids(takeDueSteps([general], at(-4), new Set(), now))).toEqual(['general/day--4', 'general/day-0']);
    expect(takeDueSteps([general], at(-4), new Set(), now).nextStepAt).toEqual(at(3));
    // Nothing is pending without a mark: every step was handed over (or the lead predates the mark).
    expect(takeDueSteps([general], undefined, new Set(), now)).toEqual({ due: [] });
  });

  it('lets steps of ended enrollments go, and leaves no mark when nothing is pending', () => {
    const result = takeDueSteps([enrollment('general', [0, 3, 7], 'EXITED'), enrollment('sales', [-1], 'ACTIVE')], at(-2), new Set(), now);
    expect(ids(result)).toEqual(['sales/day--1']);
    expect(result.nextStepAt).toBeUndefined();
  });

  it('keeps the earliest pending step of any enrollment as the mark', () => {
    const result = takeDueSteps([enrollment('general', [0, 3, 7]), enrollment('sales', [1, 2])], at(1), new Set(['sales']), now);
    expect(ids(result)).toEqual([]);
    expect(result.nextStepAt).toEqual(at(1));
  });

  it('without hand-over, sends nothing and marks the first pending step even if it is past due', () => {
    const result = takeDueSteps([enrollment('general', [-1, 3])], at(-1), new Set(), now, false);
    expect(result).toEqual({ due: [], nextStepAt: at(-1) });
  });
});
