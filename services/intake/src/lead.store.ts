import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, Outbox, bulkWriteErrors, defineModel, isDuplicateKey, outboxEntrySchema, type OutgoingEvent } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import { searchPrefixes, type LeadSearch } from './domain/lead-search.js';

export interface ContactDoc {
  _id: string; // lead id
  emailKey: string;
  profile: Record<string, unknown>;
  receivedAt: Date;
  lastSubmittedAt: Date;
  /** Anonymous web visitor ids stitched to this lead. */
  visitorIds: string[];
  /** Every beginning of every word of the email, names and company (domain searchPrefixes): what SearchLeads matches. */
  searchPrefixes?: string[];
}

/** The raw submission, kept untouched as the audit record; never updated after insert except to clear its outbox. */
export interface SubmissionDoc {
  _id: string; // submission id
  leadId: string;
  /** The client's key as sent, for the audit; never looked up, since it means nothing outside its scope. */
  idempotencyKey?: string;
  /** The client's key scoped to the caller and the normalised email (submissionFingerprint): what a retry is recognised by. */
  idempotencyFingerprint?: string;
  /** The submission exactly as it arrived (JSON text), before any normalisation. */
  raw: string;
  channel: 'grpc' | 'web-form';
  outcome: 'NEW_LEAD' | 'EXISTING_CONTACT';
  receivedAt: Date;
  /** leadmesh.lead.v1.Source and Consent in proto JSON, as validated. */
  source: Record<string, unknown>;
  consent: Record<string, unknown>;
  /** The trace the submission started, to find it in Jaeger. */
  traceId?: string;
  /** Optional fields set aside because their value could not be read (the value as sent is in `raw`). */
  notices?: { field: string; description: string }[];
  outbox: OutgoingEvent[];
}

export interface ActivityDoc {
  _id: string; // activity id
  leadId?: string;
  visitorId?: string;
  type: string;
  url?: string;
  occurredAt: Date;
  receivedAt: Date;
  outbox: OutgoingEvent[];
}

const contactSchema = new Schema<ContactDoc>(
  {
    _id: String,
    emailKey: { type: String, required: true, unique: true },
    profile: { type: Schema.Types.Mixed, required: true },
    // Descending: the console lists the newest leads first.
    receivedAt: { type: Date, required: true, index: -1 },
    lastSubmittedAt: { type: Date, required: true },
    visitorIds: { type: [String], default: [], index: true },
    // With receivedAt, so the newest matches come in index order.
    searchPrefixes: { type: [String], default: undefined },
  },
  { versionKey: false, minimize: false },
);

contactSchema.index({ searchPrefixes: 1, receivedAt: -1 });

const submissionSchema = new Schema<SubmissionDoc>(
  {
    _id: String,
    leadId: { type: String, required: true, index: true },
    idempotencyKey: String,
    idempotencyFingerprint: { type: String, index: { unique: true, sparse: true } },
    raw: { type: String, required: true },
    channel: { type: String, required: true },
    outcome: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    source: { type: Schema.Types.Mixed, default: () => ({}) },
    consent: { type: Schema.Types.Mixed, default: () => ({}) },
    traceId: String,
    notices: { type: [{ _id: false, field: String, description: String }], default: undefined },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

const activitySchema = new Schema<ActivityDoc>(
  {
    _id: String,
    leadId: { type: String, index: true },
    visitorId: { type: String, index: true },
    type: { type: String, required: true },
    url: String,
    occurredAt: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false },
);

const LEGACY_IDEMPOTENCY_INDEX = 'idempotencyKey_1';

/** Intake's store: contacts (one per normalised email), raw submissions and web activity. */
@Injectable()
export class LeadStore {
  readonly contacts: Model<ContactDoc>;
  readonly submissions: Model<SubmissionDoc>;
  readonly activities: Model<ActivityDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.contacts = defineModel(store, 'Contact', contactSchema, 'contacts');
    this.submissions = defineModel(store, 'Submission', submissionSchema, 'submissions');
    this.activities = defineModel(store, 'Activity', activitySchema, 'activities');
    outbox.track(this.submissions);
    outbox.track(this.activities);
    store.onChange((connected) => {
      if (connected) void this.dropGlobalIdempotencyIndex();
      if (connected) void this.backfillSearchPrefixes();
    });
  }

  findSubmissionByIdempotencyFingerprint(fingerprint: string) {
    return this.submissions.findOne({ idempotencyFingerprint: { $eq: fingerprint } }).lean();
  }

  /**
   * Contacts stored before SearchLeads have no prefixes: each replica fills them in on connect, a
   * page at a time (the same values whoever writes them, so replicas racing change nothing).
   */
  private async backfillSearchPrefixes(): Promise<void> {
    try {
      for (;;) {
        const page = await this.contacts.find({ searchPrefixes: { $exists: false } }, { profile: 1 }).limit(500).lean<Pick<ContactDoc, '_id' | 'profile'>[]>();
        if (!page.length) return;
        await this.contacts.bulkWrite(page.map((c) => ({ updateOne: { filter: { _id: c._id }, update: { $set: { searchPrefixes: searchPrefixes(c.profile) } } } })));
      }
    } catch {
      // Tried again on the next connect; until then those contacts are found by id and email only.
    }
  }

  /**
   * Databases from before keys were scoped hold a unique index on the raw key, which would still
   * refuse a second person's submission under the same key: it goes once the store is reachable.
   */
  private async dropGlobalIdempotencyIndex(): Promise<void> {
    try {
      const indexes = await this.submissions.collection.indexes();
      if (indexes.some((index) => index.name === LEGACY_IDEMPOTENCY_INDEX)) await this.submissions.collection.dropIndex(LEGACY_IDEMPOTENCY_INDEX);
    } catch {
      // Tried again on the next connect; until then insertSubmission reports the collision as retryable.
    }
  }

  findContactByEmail(emailKey: string) {
    return this.contacts.findOne({ emailKey: { $eq: emailKey } }).lean();
  }

  findContactByVisitor(visitorId: string) {
    return this.contacts.findOne({ visitorIds: { $eq: visitorId } }, { _id: 1 }).lean();
  }

  /** The newest contacts matching a search (planLeadSearch): by id, by email, or every word a stored prefix. */
  searchContacts(search: LeadSearch, limit: number) {
    if (search.kind === 'lead-id') return this.contacts.find({ _id: { $eq: search.leadId } }).limit(1).lean<ContactDoc[]>();
    if (search.kind === 'email') return this.contacts.find({ emailKey: { $eq: search.email } }).limit(1).lean<ContactDoc[]>();
    // One equality per word rather than $all: FerretDB answers an equality on an array field from
    // PostgreSQL, $all by reading every contact (MongoDB uses the index for either).
    const [first, ...rest] = search.words;
    const filter = first === undefined ? {} : rest.length ? { $and: search.words.map((word) => ({ searchPrefixes: { $eq: word } })) } : { searchPrefixes: { $eq: first } };
    return this.contacts.find(filter).sort({ receivedAt: -1 }).limit(limit).lean<ContactDoc[]>();
  }

  findContact(leadId: string) {
    return this.contacts.findById(leadId).lean();
  }

  submissionsOf(leadId: string) {
    return this.submissions.find({ leadId: { $eq: leadId } }, { outbox: 0 }).sort({ receivedAt: 1 }).lean<SubmissionDoc[]>();
  }

  /** Everything intake holds about a lead: contact, submissions, activity (also the anonymous part). */
  async forget(leadId: string): Promise<void> {
    const contact = await this.contacts.findById(leadId).lean();
    if (contact?.visitorIds.length) await this.activities.deleteMany({ visitorId: { $in: contact.visitorIds } });
    await this.activities.deleteMany({ leadId: { $eq: leadId } });
    await this.submissions.deleteMany({ leadId: { $eq: leadId } });
    await this.contacts.deleteOne({ _id: leadId });
  }

  countSubmissions(leadId: string) {
    return this.submissions.countDocuments({ leadId: { $eq: leadId } });
  }

  /**
   * The contact for this email: a new one, or the existing one with its profile refreshed. Most
   * submissions come from new people, so the insert goes first (one store call); the unique email
   * index turns a known email, or a concurrent first submission, into the refresh of that contact.
   */
  async upsertContact(
    emailKey: string,
    newLeadId: string,
    profile: Record<string, unknown>,
    at: Date,
    visitorId?: string,
    attempt = 1,
  ): Promise<{ leadId: string; created: boolean; firstReceivedAt: Date }> {
    try {
      await this.contacts.create({ _id: newLeadId, emailKey, profile, receivedAt: at, lastSubmittedAt: at, visitorIds: visitorId ? [visitorId] : [], searchPrefixes: searchPrefixes(profile) });
      return { leadId: newLeadId, created: true, firstReceivedAt: at };
    } catch (err) {
      if (!isDuplicateKey(err) || attempt > 2) throw err;
    }
    const existing = await this.contacts.findOneAndUpdate(
      { emailKey: { $eq: emailKey } },
      { $set: { profile, lastSubmittedAt: at, searchPrefixes: searchPrefixes(profile) }, ...(visitorId ? { $addToSet: { visitorIds: visitorId } } : {}) },
      { new: true },
    ).lean();
    // Erased between the two calls: the email is free again, so this submission makes a new contact.
    if (!existing) return this.upsertContact(emailKey, newLeadId, profile, at, visitorId, attempt + 1);
    return { leadId: existing._id, created: false, firstReceivedAt: existing.receivedAt };
  }

  /** Inserts the audit record with its lead.received event; false when its idempotency fingerprint was taken meanwhile. */
  async insertSubmission(doc: SubmissionDoc): Promise<boolean> {
    try {
      await this.submissions.create(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err) && doc.idempotencyFingerprint) return false;
      throw err;
    }
  }

  publishSubmission(doc: SubmissionDoc) {
    return this.outbox.flush(this.submissions, doc._id, doc.outbox);
  }

  /** Stores an activity once (its id is the idempotency key); false when it was already stored. */
  async insertActivity(doc: ActivityDoc): Promise<boolean> {
    try {
      await this.activities.create(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * A beacon's batch in one bulk write. An activity already stored (its id is the tracker's, so a
   * re-sent beacon repeats it) is skipped; the others are stored all the same (unordered insert).
   * Returns the ones this call stored, whose events are then this call's to publish.
   */
  async insertActivities(docs: ActivityDoc[]): Promise<ActivityDoc[]> {
    try {
      await this.activities.insertMany(docs, { ordered: false, lean: true });
      return docs;
    } catch (err) {
      const failed = bulkWriteErrors(err);
      if (!failed || !failed.every((e) => e.code === 11000)) throw err;
      const skipped = new Set(failed.map((e) => e.index));
      return docs.filter((_, i) => !skipped.has(i));
    }
  }

  /** What an anonymous visitor did, newest first. */
  activitiesOfVisitor(visitorId: string, limit = 1000) {
    return this.activities.find({ visitorId: { $eq: visitorId } }, { type: 1, url: 1, occurredAt: 1 }).sort({ occurredAt: -1 }).limit(limit).lean<Pick<ActivityDoc, '_id' | 'type' | 'url' | 'occurredAt'>[]>();
  }

  /** The lead's activities, oldest first (the anonymous ones stitched to it included). */
  activitiesOf(leadId: string, limit = 1000) {
    return this.activities.find({ leadId: { $eq: leadId } }, { type: 1, url: 1, occurredAt: 1 }).sort({ occurredAt: 1 }).limit(limit).lean<Pick<ActivityDoc, '_id' | 'type' | 'url' | 'occurredAt'>[]>();
  }

  findActivity(id: string) {
    return this.activities.findById(id).lean();
  }

  publishActivity(doc: Pick<ActivityDoc, '_id' | 'outbox'>) {
    return this.outbox.flush(this.activities, doc._id, doc.outbox);
  }

  republishActivity(id: string) {
    return this.outbox.flushStored(this.activities, id);
  }

  anonymousActivities(visitorId: string) {
    return this.activities.find({ visitorId: { $eq: visitorId }, leadId: { $exists: false } }).lean();
  }

  /** Ties an anonymous visitor's activity to the lead, with its activity.recorded event; once per activity. */
  async stitchActivity(activityId: string, leadId: string, event: OutgoingEvent): Promise<boolean> {
    const result = await this.activities.updateOne(
      { _id: activityId, leadId: { $exists: false } },
      { $set: { leadId }, $push: { outbox: event } },
    );
    return result.modifiedCount === 1;
  }
}
