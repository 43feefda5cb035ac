import { Inject, Injectable } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, type routing } from '@leadmesh/contracts';
import { LOGGER, Metrics, encodeEvent, type Logger } from '@leadmesh/platform';
import { CrmError } from './crm/crm-port.js';
import { FieldMappingError } from './domain/field-mapping.js';
import { sameCrmFields } from './domain/sync-rules.js';
import { CrmGateway } from './crm.gateway.js';
import { DeadLetterStore } from './dead-letter.store.js';
import { LeadSources } from './lead-sources.js';
import { leadReceivedAt, toSnapshot } from './lead-snapshot.js';
import { SyncStore } from './sync.store.js';

/** What made crm-sync look at a lead: an event, or an operator's replay. */
export interface SyncCause {
  eventId: string;
  subject: string;
  occurredAt?: Date | undefined;
}

export interface SyncOptions {
  /** Updates (rescore, reassignment, unsubscribe) only touch leads lead.routed already brought in. */
  onlyIfRouted: boolean;
  /** No retry follows: a transient failure is given up into dead letters instead of thrown. */
  lastTry: boolean;
  /** Routing's decision as the event carried it, for when routing's own answer is not there yet. */
  assignment?: routing.Assignment | undefined;
}

/**
 * - synced: the CRM record was created or updated
 * - unchanged: the CRM already holds these fields, nothing was sent
 * - not-routed: an update for a lead crm-sync has not brought in yet; lead.routed will
 * - dead-lettered: given up, with the reason in dead letters
 * - duplicate: a redelivered event this record already took in
 */
export type SyncOutcome = 'synced' | 'unchanged' | 'not-routed' | 'dead-lettered' | 'duplicate';

/** Failures that no retry of the same data can fix. */
export const isPermanent = (err: unknown) => err instanceof FieldMappingError || (err instanceof CrmError && !err.transient);

/**
 * Brings one lead's CRM record up to date with what its owning services hold now. Every path goes
 * through here (first sync, updates, replays), so a lead only ever has the one record its external
 * id (Salesforce) or email (HubSpot) names, and the CRM id is kept on the sync record.
 */
@Injectable()
export class LeadSync {
  /**
   * One sync per lead at a time in this replica: two events of one lead handled side by side could
   * otherwise gather in one order and write the CRM in the other, leaving it a step behind.
   */
  readonly #running = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(SyncStore) private readonly store: SyncStore,
    @Inject(DeadLetterStore) private readonly deadLetters: DeadLetterStore,
    @Inject(LeadSources) private readonly sources: LeadSources,
    @Inject(CrmGateway) private readonly gateway: CrmGateway,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get crmName() {
    return this.gateway.crm.name;
  }

  /** Throws only a transient failure that a later try may fix (and only when this is not the last try). */
  run(leadId: string, cause: SyncCause, options: SyncOptions): Promise<SyncOutcome> {
    const previous = this.#running.get(leadId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.runNow(leadId, cause, options));
    const settled = next.catch(() => undefined);
    this.#running.set(leadId, settled);
    void settled.then(() => this.#running.get(leadId) === settled && this.#running.delete(leadId));
    return next;
  }

  private async runNow(leadId: string, cause: SyncCause, options: SyncOptions): Promise<SyncOutcome> {
    try {
      return await this.syncOnce(leadId, cause, options);
    } catch (err) {
      const error = err as Error;
      if (isPermanent(err)) return this.giveUp(leadId, cause, error);
      if (options.lastTry) return this.giveUp(leadId, cause, error, `gave up after the last retry: ${error.message}`);
      await this.store.recordTransientFailure(leadId, error.message);
      throw err;
    }
  }

  private async syncOnce(leadId: string, cause: SyncCause, options: SyncOptions): Promise<SyncOutcome> {
    const record = await this.store.find(leadId);
    if (await this.store.appliedBefore(record, cause.eventId)) return 'duplicate';
    if (options.onlyIfRouted && !(record && record.attempts > 0)) return 'not-routed';
    const gathered = await this.sources.gather(leadId);
    if (!gathered.lead) throw new Error(`intake has no lead ${leadId}`);
    const receivedAt = leadReceivedAt(gathered.lead);
    const snapshot = toSnapshot({
      lead: gathered.lead,
      score: gathered.score,
      assignment: gathered.assignment ?? options.assignment,
      enrollments: gathered.enrollments,
      unsubscribed: gathered.unsubscribedInNurture || record?.unsubscribedAt != null,
    });
    const fields = this.gateway.map(snapshot);
    if (record?.status === 'SYNCED' && record.crmId && sameCrmFields(record.fields, fields)) return 'unchanged';

    await this.store.recordAttempt(leadId, this.gateway.crm.name, receivedAt);
    const { crmId } = await this.gateway.send(leadId, fields);

    const syncedAt = new Date();
    let first = false;
    let latencyMs = 0;
    await this.store.apply(leadId, cause.eventId, (current) => {
      first = !current?.syncedAt;
      // The first sync measures the pipeline from intake; an update measures from the change that caused it.
      latencyMs = Math.max(0, syncedAt.getTime() - (first ? receivedAt : (cause.occurredAt ?? syncedAt)).getTime());
      return {
        set: { status: 'SYNCED', crmId, fields, lastSyncedAt: syncedAt, lastError: null, ...(first && { syncedAt, latencyMs }) },
        events: [
          encodeEvent(SUBJECTS.crmSynced, events.CrmSyncedSchema, {
            eventId: `crm.synced:${leadId}:${cause.eventId}`,
            leadId,
            occurredAt: timestampFromDate(syncedAt),
            crmId,
            latencyMs: BigInt(latencyMs),
          }),
        ],
      };
    });
    // Only a lead given up before has a dead letter; the replay that retries it removes it too.
    if (record?.status === 'FAILED') await this.deadLetters.remove(leadId);
    if (first) this.metrics.leadFinished();
    this.logger.info({ leadId, crmId, latencyMs, cause: cause.subject, first }, first ? 'lead synced to CRM' : 'CRM record updated');
    return 'synced';
  }

  /** Parks the lead in dead letters with the CRM's message and says so on leadmesh.crm.sync_failed. */
  private async giveUp(leadId: string, cause: SyncCause, err: Error, message = err.message): Promise<SyncOutcome> {
    const failedAt = new Date();
    const attempts = await this.store.recordGivenUp(leadId, this.gateway.crm.name, message);
    const code = err instanceof CrmError ? err.code : err instanceof FieldMappingError ? 'FIELD_MAPPING' : undefined;
    await this.deadLetters.put(
      { leadId, error: message, code, attempts, eventId: cause.eventId, subject: cause.subject, failedAt },
      encodeEvent(SUBJECTS.crmSyncFailed, events.CrmSyncFailedSchema, {
        eventId: `crm.sync_failed:${leadId}:${cause.eventId}`,
        leadId,
        occurredAt: timestampFromDate(failedAt),
        error: message,
      }),
    );
    this.metrics.deadLetters.inc({ consumer: 'crm-sync-dead-letters' });
    this.logger.error({ leadId, cause: cause.subject, eventId: cause.eventId, err: message }, 'CRM sync given up, lead is in dead letters');
    return 'dead-lettered';
  }
}
