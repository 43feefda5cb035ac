import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { LOGGER, encodeEvent } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { classifySendFailure, type SendFailure } from './domain/delivery.js';
import { retryDelayMs } from './domain/schedule.js';
import { emailKindOf, mayEmail } from './domain/suppression.js';
import { renderEmail, unsubscribeToken } from './domain/templates.js';
import { EnrollmentStore } from './enrollment.store.js';
import { Mailer } from './mailer.js';
import { NurtureService, suppressionState } from './nurture.service.js';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepStore, type ScheduledStepDoc } from './step.store.js';
import { TrackRegistry } from './track.registry.js';

/**
 * Sends due steps. Exactly one replica sends a step: it claims the step (compare-and-set with a
 * lease), checks suppression and the enrollment at send time, marks the step SENDING with its
 * fixed Message-ID, hands it to SMTP, and records SENT. The one window left: a crash after the
 * SMTP server accepted the email and before SENT is stored. The step is then found SENDING with
 * an expired lease and settled as FAILED, not resent, so the worst case is one email recorded as
 * failed that was in fact delivered (its Message-ID finds it in the SMTP log), never two emails.
 */
@Injectable()
export class StepSender {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    @Inject(EnrollmentStore) private readonly leads: EnrollmentStore,
    @Inject(StepStore) private readonly steps: StepStore,
    @Inject(TrackRegistry) private readonly registry: TrackRegistry,
    @Inject(Mailer) private readonly mailer: Mailer,
    @Inject(NurtureService) private readonly nurture: NurtureService,
    @Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The sweep: settles interrupted sends, claims a batch of due steps of any lead (steps that came
   * due with time, retries, leases that ran out) and delivers them. Returns how many were claimed.
   */
  async runOnce(now = new Date()): Promise<number> {
    const settled = await this.steps.settleInterrupted(now);
    if (settled > 0) this.logger.warn({ settled }, 'steps interrupted mid-send settled as FAILED, not resent');
    return this.deliverAll(await this.steps.claimDue(this.owner, now, this.settings.leaseMs, this.settings.batchSize));
  }

  /** Claims and delivers the steps due now of these leads, whose events just arrived. */
  async runForLeads(leadIds: Iterable<string>, now = new Date()): Promise<number> {
    const claims = [...leadIds].map((leadId) => this.steps.claimDue(this.owner, now, this.settings.leaseMs, this.settings.batchSize, leadId));
    return this.deliverAll((await Promise.all(claims)).flat());
  }

  private async deliverAll(claimed: ScheduledStepDoc[]): Promise<number> {
    await Promise.all(
      claimed.map((step) =>
        this.deliver(step).catch((err: Error) => this.logger.error({ err: err.message, step: step._id }, 'step delivery failed; its lease will expire and it is retried or settled')),
      ),
    );
    return claimed.length;
  }

  private async deliver(step: ScheduledStepDoc): Promise<void> {
    const lead = await this.leads.find(step.leadId);
    const enrollment = lead?.enrollments.find((e) => e.trackId === step.trackId);
    if (!lead || !enrollment) return this.steps.finish(step._id, this.owner, 'SKIPPED', 'no enrollment for this step');
    if (enrollment.status !== 'ACTIVE') return this.steps.finish(step._id, this.owner, 'SKIPPED', enrollment.exitReason ?? 'the enrollment ended');
    const decision = mayEmail(emailKindOf(step.kind), suppressionState(lead));
    if (!decision.allowed) return this.steps.finish(step._id, this.owner, 'SKIPPED', decision.reason);

    const template = this.registry.files.templates.get(step.template);
    if (!template) return this.steps.finish(step._id, this.owner, 'FAILED', `no template named ${JSON.stringify(step.template)}`);
    const contact = lead.contact;
    if (!contact?.email) return this.steps.finish(step._id, this.owner, 'FAILED', 'no email address on record for the lead');
    let rendered;
    try {
      const token = unsubscribeToken(step.leadId, this.settings.unsubscribeSecret);
      rendered = renderEmail(
        { ...template, subject: step.subject },
        { ...contact, unsubscribeUrl: `${this.settings.publicUrl}/v1/unsubscribe?token=${encodeURIComponent(token)}` },
      );
    } catch (err) {
      return this.steps.finish(step._id, this.owner, 'FAILED', `could not render: ${(err as Error).message}`);
    }

    const start = new Date();
    if (!(await this.steps.markSending(step._id, this.owner, start, this.settings.leaseMs))) return;
    try {
      await this.mailer.send({ to: contact.email, ...rendered, messageId: step.messageId });
    } catch (err) {
      return this.failed(step, err as Error & SendFailure, step.attempts + 1);
    }
    const sentAt = new Date();
    await this.steps.markSent(
      step._id,
      sentAt,
      encodeEvent(SUBJECTS.emailSent, events.EmailSentSchema, {
        eventId: `email.sent:${step._id}`,
        leadId: step.leadId,
        occurredAt: timestampFromDate(sentAt),
        trackId: step.trackId,
        stepId: step.stepId,
        template: step.template,
        messageId: step.messageId,
      }),
    );
    this.logger.info({ leadId: step.leadId, trackId: step.trackId, stepId: step.stepId, messageId: step.messageId }, 'email sent');
  }

  private async failed(step: ScheduledStepDoc, err: Error & SendFailure, attempts: number): Promise<void> {
    const error = `SMTP: ${err.message}`.slice(0, 500);
    const outcome = classifySendFailure({ responseCode: err.responseCode, command: err.command });
    this.logger.warn({ step: step._id, attempts, outcome, err: err.message }, 'email send failed');
    if (outcome === 'bounce') {
      await this.steps.finish(step._id, this.owner, 'FAILED', `the address bounced: ${error}`);
      await this.nurture.recordBounce(step.leadId);
      return;
    }
    if (outcome === 'give-up' || attempts >= this.settings.maxSendAttempts) {
      return this.steps.finish(step._id, this.owner, 'FAILED', `gave up after ${attempts} attempt(s): ${error}`);
    }
    const retryAt = new Date(Date.now() + Math.round(retryDelayMs(attempts) * this.settings.delayScale));
    await this.steps.markRetry(step._id, this.owner, retryAt, error);
  }
}
