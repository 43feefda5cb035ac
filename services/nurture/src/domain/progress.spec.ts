import type { Enrollment } from './enrollment.js';
import { enrollmentStatus, stepProgress, type StepRecord } from './progress.js';

const at = new Date('2026-03-02T09:00:00Z');
const later = new Date('2026-03-05T09:00:00Z');
const enrollment: Enrollment = {
  trackId: 'general',
  trackVersion: '1',
  kind: 'MARKETING',
  status: 'ACTIVE',
  reason: 'why',
  enrolledAt: at,
  steps: [
    { stepId: 'day-0', template: 'welcome', subject: 's', dueAt: at },
    { stepId: 'day-3', template: 'stories', subject: 's', dueAt: later },
  ],
};
const record = (stepId: string, r: Partial<StepRecord>): StepRecord => ({ stepId, status: 'DUE', dueAt: at, attempts: 0, ...r });

describe('stepProgress', () => {
  it('shows sent, retried and in-flight steps as the store has them', () => {
    const progress = stepProgress(enrollment, [
      record('day-0', { status: 'SENT', attempts: 1, sentAt: at }),
      record('day-3', { status: 'SENDING', attempts: 2, dueAt: later, lastError: 'SMTP: 451 try later' }),
    ]);
    expect(progress).toEqual([
      { stepId: 'day-0', template: 'welcome', dueAt: at, status: 'SENT', sentAt: at, attempts: 1 },
      { stepId: 'day-3', template: 'stories', dueAt: later, status: 'DUE', attempts: 2, note: 'SMTP: 451 try later' },
    ]);
  });

  it('shows steps the scheduler has not recorded yet as due, or skipped once the enrollment ended', () => {
    expect(stepProgress(enrollment, []).map((p) => p.status)).toEqual(['DUE', 'DUE']);
    const ended: Enrollment = { ...enrollment, status: 'EXITED', exitReason: 'routed to sales' };
    expect(stepProgress(ended, []).map((p) => [p.status, p.note])).toEqual([
      ['SKIPPED', 'routed to sales'],
      ['SKIPPED', 'routed to sales'],
    ]);
  });
});

describe('enrollmentStatus', () => {
  it('is complete once every step of an active enrollment is finished', () => {
    const done = stepProgress(enrollment, [record('day-0', { status: 'SENT' }), record('day-3', { status: 'FAILED' })]);
    expect(enrollmentStatus(enrollment, done)).toBe('COMPLETED');
    const going = stepProgress(enrollment, [record('day-0', { status: 'SENT' })]);
    expect(enrollmentStatus(enrollment, going)).toBe('ACTIVE');
  });

  it('keeps an exit as an exit', () => {
    expect(enrollmentStatus({ ...enrollment, status: 'EXITED' }, [])).toBe('EXITED');
  });
});
