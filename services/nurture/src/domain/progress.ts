import type { Enrollment, EnrollmentStatus } from './enrollment.js';

/** Where one scheduled email stands in the store (CLAIMED and SENDING are a replica at work on it). */
export type StoredStepStatus = 'DUE' | 'CLAIMED' | 'SENDING' | 'SENT' | 'SKIPPED' | 'FAILED';

export interface StepRecord {
  stepId: string;
  status: StoredStepStatus;
  dueAt: Date;
  attempts: number;
  sentAt?: Date;
  lastError?: string;
  possiblyDuplicate?: boolean;
}

export type StepProgressStatus = 'DUE' | 'SENT' | 'SKIPPED' | 'FAILED';

export interface StepProgress {
  stepId: string;
  template: string;
  dueAt: Date;
  status: StepProgressStatus;
  sentAt?: Date;
  attempts: number;
  /** Why a step was skipped or failed, or the last temporary error of a step still due. */
  note?: string;
  /** Sent once more after an unknown outcome: possibly delivered twice. */
  possiblyDuplicate?: boolean;
}

const FINISHED: ReadonlySet<StepProgressStatus> = new Set(['SENT', 'SKIPPED', 'FAILED']);

/**
 * Each planned step of an enrollment with its state. A step the scheduler has not recorded yet
 * (the moment between enrolling and scheduling) is due while the enrollment is active and
 * skipped once it has ended.
 */
export function stepProgress(enrollment: Enrollment, records: StepRecord[]): StepProgress[] {
  return enrollment.steps.map((step) => {
    const record = records.find((r) => r.stepId === step.stepId);
    if (!record) {
      const ended = enrollment.status !== 'ACTIVE';
      return { stepId: step.stepId, template: step.template, dueAt: step.dueAt, status: ended ? 'SKIPPED' : 'DUE', attempts: 0, ...(ended && enrollment.exitReason ? { note: enrollment.exitReason } : {}) };
    }
    const status: StepProgressStatus = record.status === 'CLAIMED' || record.status === 'SENDING' ? 'DUE' : record.status;
    return {
      stepId: step.stepId,
      template: step.template,
      dueAt: record.dueAt,
      status,
      attempts: record.attempts,
      ...(record.sentAt ? { sentAt: record.sentAt } : {}),
      ...(record.lastError ? { note: record.lastError } : {}),
      ...(record.possiblyDuplicate ? { possiblyDuplicate: true } : {}),
    };
  });
}

/** An active enrollment whose every step is finished is complete; nothing is stored for that. */
export function enrollmentStatus(enrollment: Enrollment, progress: StepProgress[]): EnrollmentStatus {
  if (enrollment.status !== 'ACTIVE') return enrollment.status;
  return progress.length > 0 && progress.every((p) => FINISHED.has(p.status)) ? 'COMPLETED' : 'ACTIVE';
}
