import { Inject, Injectable } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { LOGGER, Metrics, encodeEvent, safeErrorText, type Logger } from '@leadmesh/platform';
import { CrmConvertedError, CrmError } from './crm/crm-port.js';
import { chooseCampaign } from './domain/campaigns.js';
import { FieldMappingError, toContactFields, type CrmValue, type MappingIssue } from './domain/field-mapping.js';
import { fieldsToRead, planUpdate, type WritePlan } from './domain/field-ownership.js';
import { isRouted, mergeLeadState, sameLeadState, type LeadState } from './domain/lead-state.js';
import { sameCrmFields, sameIssues } from './domain/sync-rules.js';
import { CrmGateway, LeadErasedError } from './crm.gateway.js';
import { DEAD_LETTERS_CONSUMER, DeadLetterStore } from './dead-letter.store.js';
import { NoLeadStateError, toSnapshot } from './lead-snapshot.js';
import { SyncStore, pendingRecord, type CampaignMembershipDoc, type ConvertedDoc, type SyncRecordDoc } from './sync.store.js';

/** What made crm-sync look at a lead: an event with the state it carries, or an operator's replay. */
export interface SyncCause {
  eventId: string;
  subject: string;
  occurredAt?: Date | undefined;
  /** What the event delivered of the lead; a replay brings nothing and works from the stored state. */
  state?: LeadState | undefined;
}

export interface SyncOptions {
  /** Updates (rescore, reassignment, enrollment, unsubscribe) only touch leads routing has assigned. */
  onlyIfRouted: boolean;
  /** No retry follows: a transient failure is given up into dead letters instead of thrown. */
  lastTry: boolean;
}

/**
 * - synced: the CRM record was created or updated
 * - unchanged: the CRM already holds these fields, nothing was sent
 * - not-routed: an update for a lead crm-sync has not brought in yet; lead.routed will
 * - dead-lettered: given up, with the reason in dead letters
 * - duplicate: a redelivered event this record already took in (or the lead is erased: its tombstone takes nothing)
 * - erased: the lead was erased while this sync was under way; what it may have written to the CRM was deleted again
 */
export type SyncOutcome = 'synced' | 'unchanged' | 'not-routed' | 'dead-lettered' | 'duplicate' | 'erased';

/** Failures that no retry of the same data can fix. */
export const isPermanent = (err: unknown) => err instanceof FieldMappingError || err instanceof NoLeadStateError || (err instanceof CrmError && !err.transient);

/**
 * Brings one lead's CRM record up to date with the lead as the pipeline's events delivered it: no
 * other service is asked. Every path goes through here (first sync, updates, replays), so a lead only
 * ever has the one record its external id (Salesforce) or email (HubSpot) names, and the CRM id is
 * kept on the sync record. Per event: one read of the sync record, the CRM call if the CRM fields
 * change, one write of the effect with the event id and crm.synced (outbox). A crash between the CRM
 * call and that write sends the same fields again on redelivery, which the adapters' upsert by
 * external id or email turns into an update of the same CRM record.
 */
@Injectable()
export class LeadSync {
  /**
   * One sync per lead at a time in this replica: two events of one lead handled side by side could
   * otherwise map in one order and write the CRM in the other, leaving it a step behind.
   */
  readonly #running = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(SyncStore) private readonly store: SyncStore,
    @Inject(DeadLetterStore) private readonly deadLetters: DeadLetterStore,
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

  /**
   * Resolves once the syncs of this lead running or queued in this replica have ended. The erasure
   * waits for them after writing its tombstone and before deleting the CRM record, so its delete
   * comes after any write they made (and they, finding the tombstone, write nothing more).
   */
  async settled(leadId: string): Promise<void> {
    for (let running = this.#running.get(leadId); running; running = this.#running.get(leadId)) await running;
  }

  private async runNow(leadId: string, cause: SyncCause, options: SyncOptions): Promise<SyncOutcome> {
    let state: LeadState | undefined;
    try {
      const record = await this.store.find(leadId);
      if (await this.store.appliedBefore(record, cause.eventId)) return 'duplicate';
      state = cause.state ? mergeLeadState(record?.lead, cause.state) : (record?.lead ?? undefined);
      return await this.syncOnce(leadId, cause, options, record, state);
    } catch (err) {
      const error = err as Error;
      if (err instanceof LeadErasedError) return 'erased';
      // Erased while this sync was under way: no dead letter (the CRM's text may quote the person)
      // and no retry; a write the CRM took before failing is deleted again.
      if ((await this.store.find(leadId).catch(() => null))?.erasedAt) return this.deleteAgain(leadId, undefined);
      if (isPermanent(err)) return this.giveUp(leadId, cause, error, state);
      if (options.lastTry) return this.giveUp(leadId, cause, error, state, `gave up after the last retry: ${error.message}`);
      await this.store.recordTransientFailure(leadId, this.crmName, error.message);
      throw err;
    }
  }

  private async syncOnce(leadId: string, cause: SyncCause, options: SyncOptions, record: SyncRecordDoc | null, state: LeadState | undefined): Promise<SyncOutcome> {
    // A record with a CRM id from before crm-sync kept the lead's state has no assignment, but is routed.
    if (options.onlyIfRouted && !isRouted(state) && !record?.crmId) {
      await this.keep(leadId, cause, record, state);
      return 'not-routed';
    }
    const snapshot = toSnapshot(leadId, state);
    const mapped = this.gateway.map(snapshot);
    const fields = mapped.fields;
    const choice = chooseCampaign(snapshot.source, this.gateway.campaigns, this.crmName);
    const issues = [...mapped.issues, ...(choice && 'issue' in choice ? [choice.issue] : [])];
    const campaign = choice && 'campaignId' in choice ? choice : undefined;
    const campaignPending = campaign !== undefined && !(record?.campaigns ?? []).some((m) => m.campaignId === campaign.campaignId);
    if (record?.status === 'SYNCED' && record.crmId && sameCrmFields(record.fields, fields) && sameIssues(record.issues, issues) && !campaignPending) {
      await this.keep(leadId, cause, record, state);
      return 'unchanged';
    }

    // An update goes through field ownership: what sales changed in the CRM since leadmesh wrote it stays.
    const plan = await this.planWrite(leadId, record, fields);
    const { crmId, converted } = await this.write(leadId, record, plan);
    const membership = campaignPending ? await this.joinCampaign(leadId, crmId, campaign, issues) : undefined;

    const syncedAt = new Date();
    let first = false;
    let latencyMs = 0;
    const stored = await this.store.commit(leadId, cause.eventId, record, (current) => {
      const lead = this.leadAfter(current, cause);
      first = !current?.syncedAt;
      // The first sync measures the pipeline from intake; an update measures from the change that caused it.
      const from = (first ? lead?.receivedAt : undefined) ?? cause.occurredAt ?? syncedAt;
      latencyMs = Math.max(0, syncedAt.getTime() - from.getTime());
      return {
        set: {
          ...(!current && { crm: this.crmName }),
          lead,
          status: 'SYNCED',
          crmId,
          fields,
          written: plan.written,
          attempts: (current?.attempts ?? 0) + 1,
          lastSyncedAt: syncedAt,
          lastError: null,
          issues,
          ...(converted && !current?.converted && { converted }),
          ...(membership && { campaigns: [...(current?.campaigns ?? []).filter((m) => m.campaignId !== membership.campaignId), membership] }),
          ...(first && { syncedAt, latencyMs, leadReceivedAt: lead?.receivedAt ?? null }),
        },
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
    // The erasure's tombstone came while the CRM call was in flight (a write queued or on the wire
    // before the erasure, answered after it): the record it made or updated must not outlive it.
    if (stored === 'erased') return this.deleteAgain(leadId, crmId);
    // Only a lead given up before has a dead letter; the replay that retries it removes it too.
    if (record?.status === 'FAILED') await this.deadLetters.remove(leadId);
    if (first) this.metrics.leadSyncedToCrm(latencyMs / 1000);
    // Reported on every sync that has them, so the count and the log follow each lead until fixed.
    for (const issue of issues) {
      this.metrics.crmSyncIssues.inc({ crm: this.crmName, code: issue.code });
      this.logger.warn({ leadId, crmId, code: issue.code, field: issue.field, issue: issue.message }, 'CRM record synced with a field left out');
    }
    if (plan.kept.length > 0) this.logger.info({ leadId, crmId, kept: plan.kept }, 'CRM values sales owns were kept');
    this.logger.info({ leadId, crmId, latencyMs, cause: cause.subject, first }, first ? 'lead synced to CRM' : 'CRM record updated');
    return 'synced';
  }

  /**
   * Sends the update to the lead's CRM record. A Salesforce Lead that sales converted takes no more
   * updates: by CRM_CONVERTED_LEAD_RULE the update follows it to the Contact it became (the fields
   * the mapping gives a contactField) or stops there. Never a second Lead, never a retry for ever.
   */
  private async write(leadId: string, record: SyncRecordDoc | null, plan: WritePlan): Promise<{ crmId: string; converted?: ConvertedDoc | undefined }> {
    if (record?.crmId && record.converted) return this.toConverted(leadId, record.crmId, record.converted.contactId, plan);
    try {
      return { crmId: (await this.gateway.send(leadId, plan.send)).crmId };
    } catch (err) {
      if (!(err instanceof CrmConvertedError) || !record?.crmId) throw err;
      const target = await this.gateway.crm.convertedTo(record.crmId);
      // Refused as converted yet not converted: the CRM's answer stands, the lead goes to dead letters.
      if (!target) throw err;
      this.logger.info({ leadId, crmId: record.crmId, contactId: target.contactId, rule: this.gateway.convertedRule }, 'CRM Lead was converted by sales');
      return this.toConverted(leadId, record.crmId, target.contactId, plan);
    }
  }

  private async toConverted(leadId: string, crmId: string, contactId: string, plan: WritePlan): Promise<{ crmId: string; converted: ConvertedDoc }> {
    const rule = this.gateway.convertedRule;
    if (rule === 'follow') {
      const contactFields = toContactFields(plan.send, this.gateway.mapping);
      if (Object.keys(contactFields).length > 0) await this.gateway.crm.updateContact(contactId, contactFields);
      this.logger.info({ leadId, contactId, fields: Object.keys(contactFields) }, 'update followed the converted Lead to its Contact');
    }
    return { crmId, converted: { contactId, rule, at: new Date() } };
  }

  /**
   * The lead becomes a member of its campaign once (a CRM that says it already is counts as done).
   * A campaign the CRM refuses is an issue on the sync, never a reason to hold the lead; a transient
   * failure retries the event, whose upsert is an update of the same record by then.
   */
  private async joinCampaign(leadId: string, crmId: string, campaign: { campaignId: string; source: string }, issues: MappingIssue[]): Promise<CampaignMembershipDoc | undefined> {
    const status = this.gateway.campaigns.memberStatus;
    try {
      const result = await this.gateway.crm.addCampaignMember(crmId, campaign.campaignId, status);
      this.logger.info({ leadId, crmId, campaignId: campaign.campaignId, already: result.already }, 'lead is a member of its CRM campaign');
      return { campaignId: campaign.campaignId, source: campaign.source, status, addedAt: new Date(), ...(result.memberId && { memberId: result.memberId }) };
    } catch (err) {
      if (!(err instanceof CrmError) || err.transient) throw err;
      issues.push({ code: 'CAMPAIGN_REFUSED', field: 'campaign', message: `campaign ${campaign.campaignId} (${campaign.source}): ${err.message}` });
      return undefined;
    }
  }

  /**
   * A lead not in the CRM yet gets every field. A record the CRM holds gets leadmesh's fields, and
   * the fields sales may edit only where leadmesh's value changed and the CRM still holds what
   * leadmesh wrote last (read from the CRM just before, only when there is such a field).
   */
  private async planWrite(leadId: string, record: SyncRecordDoc | null, fields: Record<string, CrmValue>): Promise<WritePlan> {
    if (!record?.crmId) return { send: fields, written: fields, kept: [] };
    // Records synced before leadmesh kept what it wrote held all their mapped fields as sent.
    const lastWritten = record.written ?? record.fields ?? {};
    const toRead = fieldsToRead(fields, this.gateway.mapping, lastWritten);
    const crmNow = toRead.length > 0 ? await this.gateway.crm.readLead(record.crmId, toRead) : {};
    const plan = planUpdate(fields, this.gateway.mapping, lastWritten, crmNow);
    this.logger.debug({ leadId, read: toRead, sent: Object.keys(plan.send) }, 'CRM update planned');
    return plan;
  }

  /**
   * The lead was erased while its CRM write was under way: its record goes again, for good. The
   * erasure itself deletes after the syncs of its own replica end; this covers a write another
   * replica had in flight. The event cannot carry a failed delete (a redelivery is skipped as
   * erased), so a CRM that refuses it now leaves the duty on the tombstone, and erasePending()
   * tries again until the CRM takes it.
   */
  private async deleteAgain(leadId: string, crmId: string | undefined): Promise<SyncOutcome> {
    try {
      await this.gateway.crm.deleteLead(leadId, crmId);
    } catch (err) {
      await this.store.markCrmErasurePending(leadId);
      this.logger.warn({ leadId, err: safeErrorText(err) }, 'lead erased while its CRM write was in flight; deleting the CRM record failed and is tried again later');
      return 'erased';
    }
    this.logger.info({ leadId, ...(crmId && { crmId }) }, 'lead erased while its CRM write was in flight; the CRM record was deleted again');
    return 'erased';
  }

  /** Deletes again the CRM records of erased leads that a failed delete left pending; returns how many were done. */
  async erasePending(limit = 50): Promise<number> {
    let done = 0;
    for (const leadId of await this.store.crmErasuresPending(limit)) {
      try {
        await this.gateway.crm.deleteLead(leadId);
        await this.store.crmErasureDone(leadId);
        done += 1;
        this.logger.info({ leadId }, 'CRM record written after the erasure deleted on a later try');
      } catch (err) {
        this.logger.warn({ leadId, err: safeErrorText(err) }, 'CRM record written after the erasure still not deleted; tried again later');
      }
    }
    return done;
  }

  /** Keeps what the event delivered when the CRM needs no call (not routed yet, or the same fields). */
  private async keep(leadId: string, cause: SyncCause, record: SyncRecordDoc | null, state: LeadState | undefined): Promise<void> {
    if (!cause.state || sameLeadState(record?.lead, state)) return;
    await this.store.commit(leadId, cause.eventId, record, (current) => ({
      set: { lead: this.leadAfter(current, cause), ...(!current && pendingRecord(this.crmName)) },
      events: [],
    }));
  }

  /** The stored lead with the event's state taken in; decided again on the record as it is now when another replica wrote it meanwhile. */
  private leadAfter(current: SyncRecordDoc | null, cause: SyncCause): LeadState | undefined {
    return cause.state ? mergeLeadState(current?.lead, cause.state) : (current?.lead ?? undefined);
  }

  /** Parks the lead in dead letters with the CRM's message and says so on leadmesh.crm.sync_failed. */
  private async giveUp(leadId: string, cause: SyncCause, err: Error, state: LeadState | undefined, message = err.message): Promise<SyncOutcome> {
    const failedAt = new Date();
    const attempts = await this.store.recordGivenUp(leadId, this.gateway.crm.name, message, state);
    const code = err instanceof CrmError ? err.code : err instanceof FieldMappingError ? 'FIELD_MAPPING' : err instanceof NoLeadStateError ? 'NO_LEAD_STATE' : undefined;
    // The dead letter (crm-sync's own store, erased with the lead) keeps the CRM's words for the
    // operator who fixes it; the event other services read and the log carry codes only.
    const safe = err instanceof CrmError ? (message === err.message ? err.safeMessage : `gave up after the last retry: ${err.safeMessage}`) : safeErrorText(err);
    await this.deadLetters.put(
      { leadId, error: message, code, attempts, eventId: cause.eventId, subject: cause.subject, failedAt },
      encodeEvent(SUBJECTS.crmSyncFailed, events.CrmSyncFailedSchema, {
        eventId: `crm.sync_failed:${leadId}:${cause.eventId}`,
        leadId,
        occurredAt: timestampFromDate(failedAt),
        error: safe,
      }),
    );
    this.metrics.deadLetters.inc({ consumer: DEAD_LETTERS_CONSUMER });
    this.logger.error({ leadId, cause: cause.subject, eventId: cause.eventId, code, err: safe }, 'CRM sync given up, lead is in dead letters');
    return 'dead-lettered';
  }
}
