import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, isSpanContextValid, trace, type Link } from '@opentelemetry/api';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { LOGGER, Metrics, captureTraceContext, encodeEvent, isStoreUnavailable, restoreTraceContext } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { classifySendFailure, sendAfterUnknownOutcome, stepMessageId } from './domain/delivery.js';
import { retryDelayMs, takeDueSteps, type DueStep } from './domain/schedule.js';
import { emailKindOf, mayEmail } from './domain/suppression.js';
import { renderEmail, unsubscribeToken } from './domain/templates.js';
import { TRACK_KINDS, type TrackKind } from './domain/tracks.js';
import { EnrollmentStore, type DueLead, type LeadEmailState } from './enrollment.store.js';
import { Mailer, type OutgoingEmail, type SendError } from './mailer.js';
import { NurtureService, suppressionState, type Handoff } from './nurture.service.js';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepStore, stepKey, type Candidate, type ScheduledStepDoc } from './step.store.js';
import { TrackRegistry } from './track.registry.js';

type StepToSend = Pick<ScheduledStepDoc, '_id' | 'leadId' | 'trackId' | 'stepId' | 'kind' | 'template' | 'subject' | 'messageId' | 'attempts' | 'dueAt' | 'traceContext' | 'possiblyDuplicate'>;
type Verdict = { email: OutgoingEmail } | { status: 'SKIPPED' | 'FAILED'; reason: string };

// nodemailer has no OpenTelemetry instrumentation: the SMTP conversation gets its span here.
const tracer = trace.getTracer('leadmesh-nurture');

/**
 * Sends the steps handed to it. Exactly one replica sends a step: the step's record is a
 * unique-key insert, made SENDING (the attempt counted, a lease running) just before the email
 * goes to SMTP, so the insert is both the exclusive claim and the mark that the email may be out.
 * Suppression and the enrollment are checked, and the email rendered, before that insert, from
 * the lead as the change that handed the step over left it. After SMTP accepts, SENT and
 * email.sent are stored in one write.
 *
 * The window left: a crash between the insert and SMTP's answer being stored. The step is then
 * found SENDING with an expired lease and settled as FAILED, not resent, so the worst case is one
 * email recorded as failed that was in fact delivered (or never handed over: the insert comes
 * right before the SMTP conversation), never two emails.
 *
 * Erasure: a step is handed over from a read of the lead (the event's change, the sweep's due
 * leads) that an erasure may follow before the step is recorded or sent. Erasure writes the lead's
 * tombstone, then deletes its steps; so after recording a step, and again right before each SMTP
 * conversation, the sender looks at the lead's document, and for an erased lead deletes the steps
 * and sends nothing. Left: an email already handed to the SMTP server when the erasure arrives
 * goes out (it cannot be called back); its step is deleted, and its email.sent, if it was stored
 * first, names no person.
 */
@Injectable()
export class StepSender {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** SMTP conversations in progress; at most batchSize, beyond that a hand-over waits for one to end. */
  private readonly sending = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    @Inject(EnrollmentStore) private readonly leads: EnrollmentStore,
    @Inject(StepStore) private readonly steps: StepStore,
    @Inject(TrackRegistry) private readonly registry: TrackRegistry,
    @Inject(Mailer) private readonly mailer: Mailer,
    @Inject(NurtureService) private readonly nurture: NurtureService,
    @Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {
    metrics.emailKinds(TRACK_KINDS);
    // Where the SMTP server is, for the span: host and port only, never the URL's credentials.
    const smtp = new URL(settings.smtpUrl);
    this.smtpServer = { address: smtp.hostname, port: Number(smtp.port) || (smtp.protocol === 'smtps:' ? 465 : 25) };
  }

  private readonly smtpServer: { address: string; port: number };

  /**
   * Records every step handed over, one insert each, and starts sending those that may go. Resolves
   * once each step is recorded (so an event is acknowledged only after its steps are safe in the
   * store); the SMTP conversations go on after.
   */
  async take(handoff: Handoff | undefined): Promise<void> {
    if (!handoff?.steps.length) return;
    await Promise.all(handoff.steps.map((due) => this.takeStep(handoff.lead, due)));
  }

  private async takeStep(lead: LeadEmailState, due: DueStep): Promise<void> {
    const now = new Date();
    const enrollment = lead.enrollments.find((e) => e.trackId === due.trackId);
    const step = {
      _id: stepKey(lead._id, due.trackId, due.step.stepId),
      leadId: lead._id,
      trackId: due.trackId,
      stepId: due.step.stepId,
      kind: enrollment?.kind ?? ('MARKETING' as TrackKind),
      template: due.step.template,
      subject: due.step.subject,
      dueAt: due.step.dueAt,
      messageId: stepMessageId(lead._id, due.trackId, due.step.stepId, this.settings.fromDomain),
      // The event that handed the step over, so a later retry, in a trace of its own, links to it.
      // The sweep hands steps over outside any trace: they link to the event that enrolled the lead.
      ...(trace.getSpan(context.active()) ? { traceContext: captureTraceContext() } : lead.scheduledBy ? { traceContext: lead.scheduledBy } : {}),
    };
    const verdict = this.verdict(lead, step);
    if ('status' in verdict) {
      if (await this.steps.record({ ...step, status: verdict.status, attempts: 0, lastError: verdict.reason })) await this.erasedMeanwhile(step);
      return;
    }
    // Room first: a step recorded SENDING goes to SMTP at once, or a crash would settle it unsent.
    await this.roomToSend();
    const recorded = await this.steps.record({
      ...step,
      status: 'SENDING',
      attempts: 1,
      leaseOwner: this.owner,
      sendingAt: now,
      leaseUntil: new Date(now.getTime() + this.settings.leaseMs),
    });
    if (recorded) this.startSending({ ...step, attempts: 1 }, verdict.email);
  }

  /** May this step be emailed to this lead now, and what exactly goes out. */
  private verdict(lead: LeadEmailState, step: Pick<ScheduledStepDoc, 'leadId' | 'trackId' | 'kind' | 'template' | 'subject' | 'messageId'>): Verdict {
    const enrollment = lead.enrollments.find((e) => e.trackId === step.trackId);
    if (!enrollment) return { status: 'SKIPPED', reason: 'no enrollment for this step' };
    if (enrollment.status !== 'ACTIVE') return { status: 'SKIPPED', reason: enrollment.exitReason ?? 'the enrollment ended' };
    const decision = mayEmail(emailKindOf(step.kind), suppressionState(lead));
    if (!decision.allowed) return { status: 'SKIPPED', reason: decision.reason };

    const template = this.registry.files.templates.get(step.template);
    if (!template) return { status: 'FAILED', reason: `no template named ${JSON.stringify(step.template)}` };
    const contact = lead.contact;
    if (!contact?.email) return { status: 'FAILED', reason: 'no email address on record for the lead' };
    try {
      const token = unsubscribeToken(step.leadId, this.settings.unsubscribeSecret);
      const rendered = renderEmail(
        { ...template, subject: step.subject },
        { ...contact, unsubscribeUrl: `${this.settings.publicUrl}/v1/unsubscribe?token=${encodeURIComponent(token)}` },
      );
      return { email: { to: contact.email, ...rendered, messageId: step.messageId } };
    } catch (err) {
      return { status: 'FAILED', reason: `could not render: ${(err as Error).message}` };
    }
  }

  private async roomToSend(): Promise<void> {
    while (this.sending.size >= this.settings.batchSize) await Promise.race(this.sending);
  }

  private startSending(step: StepToSend, email: OutgoingEmail): void {
    const run: Promise<void> = this.send(step, email)
      .catch((err: Error) => this.logger.error({ err: err.message, step: step._id }, 'step delivery failed; its lease will expire and it is settled'))
      .finally(() => this.sending.delete(run));
    this.sending.add(run);
  }

  private async send(step: StepToSend, email: OutgoingEmail): Promise<void> {
    if (await this.erasedMeanwhile(step)) return;
    try {
      await this.smtp(step, email);
    } catch (err) {
      return this.failed(step, err as SendError, step.attempts);
    }
    const sentAt = new Date();
    // dueAt of a retried step is when the retry came due (markRetry moves it), so a retry is
    // measured from then; the attempts that failed before it are counted as outcome retry.
    this.metrics.emailSent(step.kind, (sentAt.getTime() - new Date(step.dueAt).getTime()) / 1000);
    await this.recordSent(
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
    this.logger.info({ leadId: step.leadId, trackId: step.trackId, stepId: step.stepId, messageId: step.messageId, ...(step.possiblyDuplicate && { possiblyDuplicate: true }) }, 'email sent');
  }

  /**
   * The SMTP conversation as a span. Handed over by an event, the send runs in that event's
   * context (AsyncLocalStorage carries it from the consumer's handler through the awaits, after
   * the event is acknowledged too), so the span is in the lead's trace. Sent by the sweep or as a
   * retry, it starts later outside any trace: a root span of its own, linked to the event that
   * handed the step over when the step kept its context. Attributes name the step and the server,
   * never the address or anything else about the person: an SMTP error's text often quotes the
   * recipient, so only its code and command are recorded.
   */
  private async smtp(step: StepToSend, email: OutgoingEmail): Promise<void> {
    const inTrace = trace.getSpan(context.active()) !== undefined;
    const links: Link[] = [];
    if (!inTrace && step.traceContext) {
      const scheduledBy = trace.getSpanContext(restoreTraceContext(step.traceContext));
      if (scheduledBy && isSpanContextValid(scheduledBy)) links.push({ context: scheduledBy, attributes: { 'leadmesh.link': 'handed over by' } });
    }
    const span = tracer.startSpan(
      'smtp send',
      {
        kind: SpanKind.CLIENT,
        root: !inTrace,
        links,
        attributes: {
          'network.protocol.name': 'smtp',
          'network.transport': 'tcp',
          'server.address': this.smtpServer.address,
          'server.port': this.smtpServer.port,
          'leadmesh.lead_id': step.leadId,
          'leadmesh.nurture.track_id': step.trackId,
          'leadmesh.nurture.step_id': step.stepId,
          'leadmesh.nurture.track_kind': step.kind,
          'leadmesh.email.message_id': step.messageId,
          'leadmesh.email.attempt': step.attempts,
        },
      },
      inTrace ? context.active() : ROOT_CONTEXT,
    );
    try {
      await context.with(trace.setSpan(context.active(), span), () => this.mailer.send(email));
    } catch (err) {
      const failure = err as SendError;
      const outcome = classifySendFailure(failure);
      span.setAttributes({
        'error.type': failure.responseCode ? `smtp ${failure.responseCode}` : (failure.code ?? 'unknown'),
        // What kind of failure (retry, give-up, bounce); whether it is retried also depends on
        // the attempts left, which failed() decides after the span.
        'leadmesh.email.failure': outcome,
        ...(failure.responseCode ? { 'leadmesh.smtp.response_code': failure.responseCode } : {}),
        ...(failure.command ? { 'leadmesh.smtp.command': failure.command } : {}),
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.responseCode ? `SMTP ${failure.responseCode} on ${failure.command ?? 'a command'}` : `SMTP ${failure.code ?? 'connection failed'}` });
      throw err;
    } finally {
      span.end();
    }
  }

  /**
   * The lead was erased after this step was handed over: the steps recorded since the erasure
   * deleted them go too, and nothing is sent.
   */
  private async erasedMeanwhile(step: Pick<ScheduledStepDoc, '_id' | 'leadId'>): Promise<boolean> {
    if (!(await this.leads.isErased(step.leadId))) return false;
    await this.steps.forget(step.leadId);
    this.logger.info({ leadId: step.leadId, step: step._id }, 'lead erased after its step was handed over; not sent');
    return true;
  }

  /**
   * The email is out, and this replica knows it: the record waits out a store outage however long it
   * lasts. Given up, the step would be left SENDING and settled as interrupted, an email that did go
   * out recorded FAILED. markSent records SENT over such a settlement too, so a lapsed lease is fine.
   */
  private async recordSent(id: string, sentAt: Date, event: Parameters<StepStore['markSent']>[2]): Promise<void> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.steps.markSent(id, sentAt, event);
        return;
      } catch (err) {
        if (!isStoreUnavailable(err) || this.stopping) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async failed(step: StepToSend, err: SendError, attempts: number): Promise<void> {
    const error = `SMTP: ${err.message}`.slice(0, 500);
    const outcome = classifySendFailure(err);
    // An SMTP refusal often quotes the recipient's address: the log gets the text without it.
    this.logger.warn({ step: step._id, attempts, outcome, err: withoutAddresses(err.message) }, 'email send failed');
    if (outcome === 'bounce') {
      this.metrics.emailNotSent(step.kind, 'bounce');
      await this.steps.finish(step._id, this.owner, 'FAILED', `the address bounced: ${error}`);
      await this.nurture.recordBounce(step.leadId);
      return;
    }
    if (outcome === 'unknown') {
      if (sendAfterUnknownOutcome(step.possiblyDuplicate ?? false) === 'give-up') {
        this.metrics.emailNotSent(step.kind, 'failed');
        return this.steps.finish(step._id, this.owner, 'FAILED', `outcome unknown twice, not sent a third time; it may have been delivered (look up ${step.messageId} in the SMTP log): ${error}`);
      }
      // Once more whatever the attempts so far: a confirmation is never dropped on a silence.
      this.metrics.emailNotSent(step.kind, 'retry');
      const retryAt = new Date(Date.now() + Math.round(retryDelayMs(1) * this.settings.delayScale));
      return this.steps.markRetry(step._id, this.owner, retryAt, `outcome unknown, sent once more with the same Message-ID: ${error}`, true);
    }
    if (outcome === 'give-up' || attempts >= this.settings.maxSendAttempts) {
      this.metrics.emailNotSent(step.kind, 'failed');
      return this.steps.finish(step._id, this.owner, 'FAILED', `gave up after ${attempts} attempt(s): ${error}`);
    }
    this.metrics.emailNotSent(step.kind, 'retry');
    const retryAt = new Date(Date.now() + Math.round(retryDelayMs(attempts) * this.settings.delayScale));
    await this.steps.markRetry(step._id, this.owner, retryAt, error);
  }

  /**
   * The sweep: settles interrupted sends, takes the steps of leads whose next step has come and
   * the steps due again after a temporary failure. Returns the larger of the two batches, so the
   * caller knows whether to go on at once.
   */
  async runOnce(now = new Date()): Promise<number> {
    // Outside any trace whoever calls it: what the sweep sends starts traces of its own.
    return context.with(ROOT_CONTEXT, () => this.sweepOnce(now));
  }

  private async sweepOnce(now: Date): Promise<number> {
    const settled = await this.steps.settleInterrupted(now);
    if (settled.resent > 0) this.logger.warn({ steps: settled.resent }, 'steps interrupted mid-send are sent once more, marked possibly duplicated');
    if (settled.failed > 0) this.logger.warn({ steps: settled.failed }, 'steps interrupted mid-send a second time settled as FAILED, not resent');
    const [leads, retries] = await Promise.all([this.leads.dueLeads(now, this.settings.batchSize), this.steps.retriesDue(now, this.settings.batchSize)]);
    await Promise.all([
      ...leads.map((lead) => this.sweepLead(lead, now).catch((err: Error) => this.logger.error({ err: err.message, leadId: lead._id }, 'due steps not taken; the next sweep tries again'))),
      ...retries.map((candidate) => this.retry(candidate, now).catch((err: Error) => this.logger.error({ err: err.message, step: candidate._id }, 'retry not taken; the next sweep tries again'))),
    ]);
    return Math.max(leads.length, retries.length);
  }

  /**
   * Records the lead's due steps first, then moves its mark past them: a crash in between leaves
   * the mark where it was, and the next sweep finds those steps recorded and moves on. If the lead
   * changed meanwhile, moving the mark hands over whatever else that change made due.
   */
  private async sweepLead(lead: DueLead, now: Date): Promise<void> {
    const { due } = takeDueSteps(lead.enrollments, lead.nextStepAt, new Set(), now);
    await this.take({ lead, steps: due });
    const moved = await this.nurture.moveSchedule(lead._id, lead.nextStepAt ?? now, now);
    const taken = new Set(due.map((d) => `${d.trackId}/${d.step.stepId}`));
    if (moved) await this.take({ ...moved, steps: moved.steps.filter((d) => !taken.has(`${d.trackId}/${d.step.stepId}`)) });
  }

  private async retry(candidate: Candidate, now: Date): Promise<void> {
    await this.roomToSend();
    const step = await this.steps.claimRetry(candidate, this.owner, now, this.settings.leaseMs);
    if (!step) return;
    const lead = await this.leads.find(step.leadId);
    const verdict: Verdict = lead ? this.verdict(lead, step) : { status: 'SKIPPED', reason: 'no enrollment for this step' };
    if ('status' in verdict) return this.steps.finish(step._id, this.owner, verdict.status, verdict.reason);
    this.startSending(step, verdict.email);
  }

  /** Waits for the SMTP conversations in progress (shutdown). */
  async idle(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.sending]);
  }
}

/** An SMTP error's text with every email address replaced, for logs. */
export function withoutAddresses(text: string): string {
  return text.replace(/<?[^\s<>@"']+@[^\s<>"']+>?/g, '<address>');
}
