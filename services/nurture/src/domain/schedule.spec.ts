import { planSteps, retryDelayMs, SEND_RETRY } from './schedule.js';
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
