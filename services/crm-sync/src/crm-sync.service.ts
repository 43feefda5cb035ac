import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { crmsync } from '@leadmesh/contracts';
import { InvalidArgumentError, LOGGER, NotFoundError, type EventContext, type Logger } from '@leadmesh/platform';
import { DeadLetterStore, type DeadLetterEntry } from './dead-letter.store.js';
import { stateOf, type LeadEvent } from './lead-events.js';
import { LeadSync, type SyncCause, type SyncOutcome } from './lead-sync.js';
import { CrmGateway } from './crm.gateway.js';
import { CrmAvailability } from './crm-availability.js';
import { CrmRateLimitedError, CrmUnavailableError } from './crm/crm-port.js';
import { SyncStore, type SyncRecordDoc } from './sync.store.js';

const STATUS = { PENDING: crmsync.SyncStatus.PENDING, SYNCED: crmsync.SyncStatus.SYNCED, FAILED: crmsync.SyncStatus.FAILED } as const;
const DEFAULT_PAGE_SIZE = 50;
/** Leads replayed at once by Replay(all): enough to drain thousands, few enough not to set off the CRM's limits. */
const REPLAY_CONCURRENCY = 8;

export interface ReplayTally {
  replayed: number;
  skipped: number;
  failed: number;
}

/** crm-sync's use cases: put each routed lead in the CRM once, keep it current, and say where it stands. */
@Injectable()
export class CrmSyncService {
  constructor(
    @Inject(SyncStore) private readonly store: SyncStore,
    @Inject(DeadLetterStore) private readonly deadLetters: DeadLetterStore,
    @Inject(LeadSync) private readonly sync: LeadSync,
    @Inject(CrmGateway) private readonly gateway: CrmGateway,
    @Inject(CrmAvailability) private readonly availability: CrmAvailability,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Right to erasure. The tombstone first, so that from then on no sync starts or commits for the
   * lead (a sync whose CRM write was in flight finds it at its commit and deletes that record
   * again); then the syncs of the lead this replica is running end; then the CRM record is deleted
   * for good through the adapter (a CRM outage fails the erasure event, which is retried like any
   * other); then the dead letter. Deleting only after the tombstone and the running syncs is what
   * keeps a write that was queued or in flight from bringing the CRM record back.
   */
  async forget(leadId: string): Promise<void> {
    const record = await this.store.find(leadId);
    await this.store.forget(leadId);
    await this.sync.settled(leadId);
    await this.gateway.crm.deleteLead(leadId, record?.crmId || undefined);
    await this.deadLetters.remove(leadId);
    this.logger.info({ leadId }, 'lead erased from the CRM and crm-sync');
  }

  async getSyncStatus(leadId: string): Promise<MessageInitShape<typeof crmsync.SyncRecordSchema>> {
    const doc = await this.store.find(leadId);
    if (!doc || doc.erasedAt) throw new NotFoundError(`sync record for lead ${leadId}`);
    return toSyncRecord(leadId, doc);
  }

  /**
   * A lead routed for the first time comes into the CRM; a rescore, a reassignment, an enrollment or
   * an unsubscribe updates the same CRM record if the lead is routed and its CRM fields change. Each
   * event's state is kept either way, so the lead arrives complete (opted out, in its track) whatever
   * the order of its events.
   */
  async onLeadEvent(leadEvent: LeadEvent, ctx: EventContext, lastTry: boolean): Promise<SyncOutcome> {
    const { event } = leadEvent;
    const cause: SyncCause = {
      eventId: ctx.eventId,
      subject: ctx.subject,
      occurredAt: event.occurredAt ? timestampDate(event.occurredAt) : undefined,
      state: stateOf(leadEvent),
    };
    // A CRM that is down or asks us to slow down is waited for with the event in hand, and the sync
    // tried again the moment the CRM answers (one shared probe); only after the wait runs out does
    // the event go back to the broker for its next delivery.
    const deadline = Date.now() + this.availability.maxWaitMs;
    for (;;) {
      try {
        return await this.sync.run(event.leadId, cause, { onlyIfRouted: leadEvent.kind !== 'routed', lastTry });
      } catch (err) {
        const left = deadline - Date.now();
        if (left <= 0) throw err;
        if (err instanceof CrmRateLimitedError) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(err.retryAfterMs, left)));
          continue;
        }
        if (err instanceof CrmUnavailableError && (await this.availability.waitUntilAnswering(left))) continue;
        throw err;
      }
    }
  }

  async listDeadLetters(pageSize: number, pageToken: string): Promise<MessageInitShape<typeof crmsync.ListDeadLettersResponseSchema>> {
    const size = pageSize || DEFAULT_PAGE_SIZE;
    const page = await this.deadLetters.page(decodePageToken(pageToken), size + 1);
    const shown = page.slice(0, size);
    return {
      deadLetters: shown.map(toDeadLetter),
      nextPageToken: page.length > size ? encodePageToken(shown.at(-1)!.leadId) : '',
    };
  }

  /**
   * Tries dead-lettered leads again with the state their events delivered (no other service is
   * asked). One lead may be any lead crm-sync knows (replaying a synced lead whose fields did not
   * change is a no-op, counted as skipped).
   */
  async replay(target: { leadId: string } | { all: true }): Promise<ReplayTally> {
    const tally: ReplayTally = { replayed: 0, skipped: 0, failed: 0 };
    if ('leadId' in target) {
      const [letter, record] = await Promise.all([this.deadLetters.find(target.leadId), this.store.find(target.leadId)]);
      if (!letter && (!record || record.erasedAt)) throw new NotFoundError(`dead letter or sync record for lead ${target.leadId}`);
      await this.replayOne(target.leadId, tally);
      return tally;
    }
    // Lead-id order with a cursor: a lead that fails again stays behind us, so the pass ends.
    for (let after: string | undefined; ; ) {
      const page = await this.deadLetters.page(after, 100);
      if (page.length === 0) break;
      for (let i = 0; i < page.length; i += REPLAY_CONCURRENCY) {
        await Promise.all(page.slice(i, i + REPLAY_CONCURRENCY).map((letter) => this.replayOne(letter.leadId, tally)));
      }
      after = page.at(-1)!.leadId;
      this.logger.info({ ...tally, after }, 'replaying dead letters');
    }
    this.logger.info(tally, 'replay of all dead letters finished');
    return tally;
  }

  private async replayOne(leadId: string, tally: ReplayTally): Promise<void> {
    const cause: SyncCause = { eventId: `replay:${leadId}:${randomUUID()}`, subject: 'replay' };
    try {
      const outcome = await this.sync.run(leadId, cause, { onlyIfRouted: false, lastTry: true });
      if (outcome === 'synced') tally.replayed += 1;
      else if (outcome === 'dead-lettered') tally.failed += 1;
      else {
        // Already in the CRM as it is: a dead letter left from before is stale.
        await this.deadLetters.remove(leadId);
        tally.skipped += 1;
      }
    } catch (err) {
      // Our own store or broker failed while giving up; the dead letter is still there for the next replay.
      tally.failed += 1;
      this.logger.warn({ leadId, err: (err as Error).message }, 'replay of lead failed');
    }
  }
}

function encodePageToken(leadId: string): string {
  return Buffer.from(`after:${leadId}`).toString('base64url');
}

function decodePageToken(token: string): string | undefined {
  if (token === '') return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('after:') || text.length <= 'after:'.length) {
    throw new InvalidArgumentError([{ field: 'page_token', description: 'is not a token from a previous ListDeadLetters answer' }], 'ListDeadLettersRequest');
  }
  return text.slice('after:'.length);
}

function toDeadLetter(entry: DeadLetterEntry): MessageInitShape<typeof crmsync.DeadLetterSchema> {
  return {
    leadId: entry.leadId,
    error: entry.error,
    attempts: entry.attempts,
    failedAt: timestampFromDate(entry.failedAt),
    eventId: entry.eventId,
    subject: entry.subject,
  };
}

function toSyncRecord(leadId: string, doc: SyncRecordDoc): MessageInitShape<typeof crmsync.SyncRecordSchema> {
  return {
    leadId,
    status: STATUS[doc.status],
    crmId: doc.crmId ?? '',
    attempts: doc.attempts,
    lastError: doc.lastError ?? '',
    leadReceivedAt: doc.leadReceivedAt ? timestampFromDate(new Date(doc.leadReceivedAt)) : undefined,
    syncedAt: doc.syncedAt ? timestampFromDate(new Date(doc.syncedAt)) : undefined,
    latencyMs: BigInt(doc.latencyMs ?? 0),
    fields: Object.fromEntries(Object.entries(doc.fields ?? {}).map(([k, v]) => [k, String(v)])),
    issues: (doc.issues ?? []).map((i) => ({ code: i.code, field: i.field, message: i.message })),
    converted: doc.converted && { contactId: doc.converted.contactId, rule: doc.converted.rule, convertedSeenAt: timestampFromDate(new Date(doc.converted.at)) },
    campaignMemberships: (doc.campaigns ?? []).map((c) => ({
      campaignId: c.campaignId,
      source: c.source,
      memberId: c.memberId ?? '',
      status: c.status,
      addedAt: timestampFromDate(new Date(c.addedAt)),
    })),
  };
}
