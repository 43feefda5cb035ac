import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, intake, lead } from '@leadmesh/contracts';
import { ContactKeys, InvalidArgumentError, LOGGER, Metrics, NotFoundError, UnavailableError, encodeEvent, isInfrastructureFailure, type Logger } from '@leadmesh/platform';
import type { BeaconActivity } from './domain/beacon.js';
import { findSubmissionInjection } from './domain/violations.js';
import { contactNotices, normaliseContact, normaliseEmail } from './domain/normalise.js';
import type { FieldNotice } from './domain/violations.js';
import { submissionFingerprint } from './domain/submission.js';
import { planLeadSearch } from './domain/lead-search.js';
import { keyedHash } from './domain/keyed-hash.js';
import { ErasureStore } from './erasure.store.js';
import { LeadStore, type ActivityDoc, type ContactDoc, type SubmissionDoc } from './lead.store.js';
import { INTAKE_SETTINGS, type IntakeSettings } from './intake.settings.js';

type SubmitLeadResponse = MessageInitShape<typeof intake.SubmitLeadResponseSchema>;

const OUTCOME = {
  NEW_LEAD: intake.SubmissionOutcome.NEW_LEAD,
  EXISTING_CONTACT: intake.SubmissionOutcome.EXISTING_CONTACT,
} as const;

/** Intake's use cases: capture a submission, record activity, answer for a lead. */
@Injectable()
export class IntakeService {
  constructor(
    @Inject(LeadStore) private readonly store: LeadStore,
    @Inject(ErasureStore) private readonly erasures: ErasureStore,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INTAKE_SETTINGS) private readonly settings: Pick<IntakeSettings, 'erasureHashKey'>,
    @Inject(ContactKeys) private readonly contactKeys: ContactKeys,
  ) {}

  /**
   * Stores the raw submission and the normalised contact, then publishes lead.received. The event
   * is stored on the submission itself (outbox), so an accepted lead is never lost to a broker outage.
   */
  async submitLead(
    request: intake.SubmitLeadRequest,
    channel: SubmissionDoc['channel'],
    rawBody: string | undefined,
    /** The token's subject; empty when authentication is off (local runs). */
    caller: string,
    /** Optional fields the door already set aside (web-form values it could not read). */
    doorNotices: readonly FieldNotice[] = [],
  ): Promise<{ response: SubmitLeadResponse; notices: FieldNotice[] }> {
    const c = request.contact!;
    const raw = {
      email: c.email,
      firstName: c.firstName,
      lastName: c.lastName,
      phone: c.phone,
      company: c.company,
      jobTitle: c.jobTitle,
      country: c.country,
      companySize: c.companySize || undefined,
      industry: c.industry,
    };
    const violations = findSubmissionInjection(request);
    if (violations.length > 0) throw new InvalidArgumentError(violations, intake.SubmitLeadRequestSchema.typeName);
    // What could not be read in an optional field is flagged, never a reason to refuse the lead.
    const notices = [...doorNotices, ...contactNotices(raw)];

    const contact = normaliseContact(raw);
    const idempotencyFingerprint = submissionFingerprint({ caller, normalisedEmail: contact.email }, request.idempotencyKey);
    if (idempotencyFingerprint) {
      const prior = await this.store.findSubmissionByIdempotencyFingerprint(idempotencyFingerprint);
      if (prior) return answer(replayOf(prior), prior.notices ?? []);
    }

    const profile = create(lead.LeadProfileSchema, {
      contact: {
        email: contact.email,
        firstName: contact.firstName,
        lastName: contact.lastName,
        phone: contact.phoneE164 ?? contact.phone,
        company: contact.company,
        jobTitle: contact.jobTitle,
        country: contact.country ?? '',
        companySize: contact.companySize ?? 0,
        industry: contact.industry,
      },
      source: request.source,
      interest: request.interest,
      consent: request.consent,
    });
    const profileJson = toJson(lead.LeadProfileSchema, profile) as Record<string, unknown>;
    const receivedAt = new Date();
    const { leadId, created, firstReceivedAt } = await this.store.upsertContact(contact.email, randomUUID(), profileJson, receivedAt, request.visitorId || undefined);

    const submissionId = randomUUID();
    const submission: SubmissionDoc = {
      _id: submissionId,
      leadId,
      idempotencyKey: request.idempotencyKey || undefined,
      idempotencyFingerprint,
      raw: rawBody ?? JSON.stringify(toJson(intake.SubmitLeadRequestSchema, request)),
      channel,
      outcome: created ? 'NEW_LEAD' : 'EXISTING_CONTACT',
      receivedAt,
      source: toJson(lead.SourceSchema, profile.source ?? create(lead.SourceSchema)) as Record<string, unknown>,
      consent: toJson(lead.ConsentSchema, profile.consent ?? create(lead.ConsentSchema)) as Record<string, unknown>,
      traceId: trace.getActiveSpan()?.spanContext().traceId,
      notices,
      outbox: [
        encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, {
          eventId: `lead.received:${submissionId}`,
          leadId,
          occurredAt: timestampFromDate(receivedAt),
          submissionId,
          // When the lead first arrived, for a repeat submission too: the CRM's received date and the pipeline latency start there.
          profile: { ...profile, receivedAt: timestampFromDate(firstReceivedAt) },
          newLead: created,
        }),
      ],
    };
    if (!(await this.store.insertSubmission(submission))) {
      // A concurrent retry with the same idempotency key won the insert.
      const prior = await this.store.findSubmissionByIdempotencyFingerprint(idempotencyFingerprint!);
      if (prior) return answer(replayOf(prior), prior.notices ?? []);
      // Nothing stored under this fingerprint, yet the insert collided: a database's unscoped
      // index not yet dropped. Never answer for a submission that was not stored: the caller retries.
      throw new UnavailableError('submission not stored, retry');
    }
    await this.store.publishSubmission(submission);
    if (request.visitorId) await this.stitchVisitor(request.visitorId, leadId);
    this.metrics.leadFinished();
    // The fields only, never their values: those are personal.
    this.logger.info({ leadId, submissionId, outcome: submission.outcome, channel, setAside: notices.map((n) => n.field) }, 'lead received');
    return answer({ leadId, submissionId, outcome: OUTCOME[submission.outcome], receivedAt: timestampFromDate(receivedAt) }, notices);
  }

  async recordActivity(request: intake.RecordActivityRequest): Promise<{ activityId: string; leadId: string }> {
    const activityId = request.activityId || randomUUID();
    const existing = await this.store.findActivity(activityId);
    if (existing) {
      // A retried RecordActivity: make sure its event went out, change nothing.
      await this.store.republishActivity(activityId);
      return { activityId, leadId: existing.leadId ?? '' };
    }
    let leadId: string | undefined;
    let visitorId: string | undefined;
    if (request.subject.case === 'leadId') {
      if (!(await this.store.findContact(request.subject.value))) throw new NotFoundError(`lead ${request.subject.value}`);
      leadId = request.subject.value;
    } else if (request.subject.case === 'visitorId') {
      visitorId = request.subject.value;
      leadId = (await this.store.findContactByVisitor(visitorId))?._id;
    }
    const occurredAt = request.occurredAt ? timestampDate(request.occurredAt) : new Date();
    const type = activityTypeName(request.type);
    const doc = {
      _id: activityId,
      leadId,
      visitorId,
      type,
      url: request.url || undefined,
      occurredAt,
      receivedAt: new Date(),
      outbox: leadId ? [activityEvent(activityId, leadId, type, occurredAt, request.url)] : [],
    };
    if (!(await this.store.insertActivity(doc))) return { activityId, leadId: leadId ?? '' };
    await this.store.publishActivity(doc);
    return { activityId, leadId: leadId ?? '' };
  }

  /**
   * A beacon's batch from the browser tracker, already validated as RecordActivity would. One read
   * (is the visitor a lead yet?), one bulk write; a lead's new activities go out as
   * activity.recorded through their outbox, an anonymous visitor's wait for the stitch.
   */
  async recordActivities(visitorId: string, activities: readonly BeaconActivity[]): Promise<{ stored: number; repeated: number; known: boolean }> {
    const leadId = (await this.store.findContactByVisitor(visitorId))?._id;
    const receivedAt = new Date();
    const docs = activities.map((a) => {
      const type = `ACTIVITY_TYPE_${a.type}`;
      // The bulk write stores the documents as built (no schema casting), where an undefined
      // field would become null: an anonymous activity must have no leadId at all for the stitch.
      const doc: ActivityDoc = { _id: a.activityId, visitorId, type, occurredAt: a.occurredAt, receivedAt, outbox: [] };
      if (a.url) doc.url = a.url;
      if (leadId) {
        doc.leadId = leadId;
        doc.outbox = [activityEvent(a.activityId, leadId, type, a.occurredAt, a.url)];
      }
      return doc;
    });
    const stored = await this.store.insertActivities(docs);
    if (leadId) for (const doc of stored) await this.store.publishActivity(doc);
    return { stored: stored.length, repeated: docs.length - stored.length, known: leadId !== undefined };
  }

  async getLead(leadId: string): Promise<intake.Lead> {
    const contact = await this.store.findContact(leadId);
    if (!contact) throw new NotFoundError(`lead ${leadId}`);
    return this.toLead(contact);
  }

  /** SearchLeads: the newest leads whose email, name or company the words begin, or the lead with that id. */
  async searchLeads(query: string, pageSize: number): Promise<intake.Lead[]> {
    const plan = planLeadSearch(query);
    const contacts = await this.store.searchContacts(plan.kind === 'email' ? { kind: 'email', email: normaliseEmail(plan.email) } : plan, pageSize || 20);
    return Promise.all(contacts.map((contact) => this.toLead(contact)));
  }

  private async toLead(contact: ContactDoc): Promise<intake.Lead> {
    const leadId = contact._id;
    const submissionCount = await this.store.countSubmissions(leadId);
    return create(intake.LeadSchema, {
      leadId,
      profile: fromJson(lead.LeadProfileSchema, contact.profile as JsonValue),
      receivedAt: timestampFromDate(contact.receivedAt),
      submissionCount,
      lastSubmittedAt: timestampFromDate(contact.lastSubmittedAt),
    });
  }

  /**
   * Right to erasure. The request is stored first, with its contact.erased event (outbox), so a
   * crash half-way is finished by a retry; intake's own data goes next; the other services follow
   * the event and report back. What stays is a keyed hash of the address, never the address.
   * First of all the contact's key is shredded (crypto-shredding): every copy of the contact's
   * events, in the streams, in dead letters and in backups, stops opening before anything else
   * happens, so an erasure answers only once the broker has purged the key.
   */
  async eraseContact(email: string): Promise<MessageInitShape<typeof intake.EraseContactResponseSchema>> {
    const emailHash = keyedHash(this.settings.erasureHashKey, normaliseEmail(email));
    const leadId = (await this.store.findContactByEmail(normaliseEmail(email)))?._id;
    const prior = await this.erasures.findByEmailHash(emailHash);
    // Asking again finishes the same erasure rather than starting a second one.
    const erasure = prior && (!leadId || prior.leadId === leadId) ? prior : undefined;
    const erasureId = erasure?._id ?? `erasure-${randomUUID()}`;
    const requestedAt = erasure?.requestedAt ?? new Date();
    const targetLead = leadId ?? erasure?.leadId;
    if (targetLead) await this.shredKey(targetLead);
    if (!erasure) {
      await this.erasures.insert({
        _id: erasureId,
        emailHash,
        leadId: targetLead,
        requestedAt,
        outbox: targetLead
          ? [encodeEvent(SUBJECTS.contactErased, events.ContactErasedSchema, { eventId: `contact.erased:${erasureId}`, leadId: targetLead, occurredAt: timestampFromDate(requestedAt), erasureId })]
          : [],
      });
    }
    if (targetLead) await this.store.forget(targetLead);
    await this.erasures.markCompleted(erasureId, 'intake', new Date());
    await this.erasures.publish({ _id: erasureId, outbox: [] });
    this.logger.info({ erasureId, leadId: targetLead }, 'contact erased in intake');
    return { erasureId, leadId: targetLead ?? '', requestedAt: timestampFromDate(requestedAt) };
  }

  private async shredKey(leadId: string): Promise<void> {
    try {
      await this.contactKeys.shred(leadId);
    } catch (err) {
      if (isInfrastructureFailure(err)) throw new UnavailableError('the event broker cannot shred the contact key now; ask again', { cause: err });
      throw err;
    }
  }

  async getErasure(erasureId: string): Promise<MessageInitShape<typeof intake.GetErasureResponseSchema>> {
    const doc = await this.erasures.find(erasureId);
    if (!doc) throw new NotFoundError(`erasure ${erasureId}`);
    // With no lead behind the address, only intake had anything to do.
    const services = doc.leadId ? ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] : ['intake'];
    const completed = await this.erasures.completions(erasureId);
    const progress = services.map((service) => {
      const at = completed.get(service);
      return { service, completed: at !== undefined, completedAt: at ? timestampFromDate(new Date(at)) : undefined };
    });
    return {
      erasureId,
      leadId: doc.leadId ?? '',
      requestedAt: timestampFromDate(doc.requestedAt),
      services: progress,
      completed: progress.every((p) => p.completed),
    };
  }

  async onErasureCompleted(event: events.ErasureCompleted): Promise<void> {
    await this.erasures.markCompleted(event.erasureId, event.service, event.occurredAt ? timestampDate(event.occurredAt) : new Date());
  }

  /** Activity recorded while the visitor was anonymous now counts for the lead. */
  private async stitchVisitor(visitorId: string, leadId: string): Promise<void> {
    for (const activity of await this.store.anonymousActivities(visitorId)) {
      const event = activityEvent(activity._id, leadId, activity.type, activity.occurredAt, activity.url);
      if (await this.store.stitchActivity(activity._id, leadId, event)) await this.store.publishActivity({ _id: activity._id, outbox: [event] });
    }
  }
}

function activityTypeName(type: intake.ActivityType): string {
  return `ACTIVITY_TYPE_${intake.ActivityType[type]}`;
}

function activityEvent(activityId: string, leadId: string, activityType: string, occurredAt: Date, url?: string) {
  return encodeEvent(SUBJECTS.activityRecorded, events.ActivityRecordedSchema, {
    eventId: `activity.recorded:${activityId}`,
    leadId,
    occurredAt: timestampFromDate(occurredAt),
    activityId,
    activityType,
    url: url ?? '',
  });
}

/** The same notices for every door: in the gRPC response and in the web form's JSON answer. */
function answer(response: SubmitLeadResponse, notices: FieldNotice[]): { response: SubmitLeadResponse; notices: FieldNotice[] } {
  // Plain objects, never a full message: the spread cannot carry another message's $typeName.
  return { response: { ...response, notices } as SubmitLeadResponse, notices };
}

function replayOf(prior: Pick<SubmissionDoc, 'leadId' | '_id' | 'receivedAt'>): SubmitLeadResponse {
  return {
    leadId: prior.leadId,
    submissionId: prior._id,
    outcome: intake.SubmissionOutcome.IDEMPOTENT_REPLAY,
    receivedAt: timestampFromDate(prior.receivedAt),
  };
}
