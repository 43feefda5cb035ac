import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { LOGGER, MongoStore, PeriodicWork, encodeEvent, inBackgroundSpan, type Logger, type linkToActiveSpan } from '@leadmesh/platform';
import { ChangeWatermarkStore } from './change-watermark.store.js';
import { CrmGateway } from './crm.gateway.js';
import { CrmError } from './crm/crm-port.js';
import { acceptedStatuses, changeFieldsOf, detectCrmChange, type ChangeFields, type CrmRecordSeen } from './domain/crm-changes.js';
import { KEEP_CRM_CHANGES, SyncStore, type CrmChangeDoc, type SyncRecordDoc } from './sync.store.js';

type Env = Record<string, string | undefined>;
type Link = ReturnType<typeof linkToActiveSpan>[number];

export interface CrmChangeSettings {
  /** How often each replica polls the CRM for modified records; 0 turns polling off (CRM_CHANGE_POLL_MS). */
  pollMs: number;
  /** Modified records read in one poll at most (CRM_CHANGE_BATCH); the rest waits for the next. */
  batch: number;
  /**
   * How far before the watermark each poll reads again (CRM_CHANGE_OVERLAP_MS): a record stamped
   * before the last poll can become visible after it (a Salesforce transaction that commits late,
   * HubSpot's search index that lags writes by seconds). Records read again are recognised as seen.
   */
  overlapMs: number;
  /** HubSpot app's client secret: turns the webhook endpoint on, and signs its calls (HUBSPOT_APP_SECRET). */
  hubspotAppSecret?: string | undefined;
  /** The webhook URL as registered in the HubSpot app, when a proxy in front changes it (HUBSPOT_WEBHOOK_URL). */
  hubspotWebhookUrl?: string | undefined;
}

/**
 * Salesforce is polled every 30 s. HubSpot tells crm-sync by webhook when HUBSPOT_APP_SECRET is set,
 * and then a poll every 5 minutes only catches what a lost webhook missed; without it, 30 s.
 */
export function changeSettingsFromEnv(env: Env): CrmChangeSettings {
  const secret = env.HUBSPOT_APP_SECRET?.trim() || undefined;
  const fallback = env.CRM_PROVIDER === 'hubspot' && secret ? 300_000 : 30_000;
  const pollMs = int(env, 'CRM_CHANGE_POLL_MS', fallback);
  const batch = int(env, 'CRM_CHANGE_BATCH', 2000);
  if (batch < 1) throw new Error(`CRM_CHANGE_BATCH must be positive, got ${batch}`);
  const overlapMs = int(env, 'CRM_CHANGE_OVERLAP_MS', env.CRM_PROVIDER === 'hubspot' ? 60_000 : 5_000);
  return { pollMs, batch, overlapMs, hubspotAppSecret: secret, hubspotWebhookUrl: env.HUBSPOT_WEBHOOK_URL?.trim() || undefined };
}

function int(env: Env, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be a non-negative integer, got "${raw}"`);
  return value;
}

export const CRM_CHANGE_SETTINGS = Symbol('crm-sync.change-settings');

/**
 * Changes flow back: what sales changes in the CRM (a new owner, a status that means accepted) is
 * found by polling the CRM's modification stamp (Salesforce SystemModstamp, HubSpot lastmodifieddate;
 * the watermark is kept in crm-sync's store, so a restart resumes) or by a HubSpot webhook, told
 * apart from leadmesh's own writes coming back, and published as leadmesh.crm.lead_changed for
 * routing, which owns assignments. Each change is stored on the lead's sync record with the event
 * (outbox) in one write, keyed by the CRM record and its stamp, so replicas polling side by side and
 * webhooks sent twice publish it once.
 */
@Injectable()
export class CrmChanges implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly work: PeriodicWork<number>;
  /** The last poll read a full batch: the next starts at the watermark itself, so a burst cannot hold it in the overlap. */
  private behind = false;
  readonly fields: ChangeFields;
  readonly accepted: string[];

  constructor(
    @Inject(SyncStore) private readonly store: SyncStore,
    @Inject(ChangeWatermarkStore) private readonly watermarks: ChangeWatermarkStore,
    @Inject(CrmGateway) private readonly gateway: CrmGateway,
    @Inject(MongoStore) private readonly mongo: MongoStore,
    @Inject(CRM_CHANGE_SETTINGS) readonly settings: CrmChangeSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.fields = changeFieldsOf(gateway.mapping);
    this.accepted = acceptedStatuses(process.env.CRM_ACCEPTED_STATUSES, gateway.mapping);
    this.work = new PeriodicWork('CRM change poll', () => this.pollPass(), { everyMs: settings.pollMs || 60_000, logger });
  }

  onApplicationBootstrap(): void {
    if (this.settings.pollMs > 0) this.work.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.work.stop();
  }

  /** One poll now (or the one under way); returns how many changes it took back. */
  async poll(): Promise<number> {
    return (await this.work.runNow()) ?? 0;
  }

  get crm(): string {
    return this.gateway.crm.name;
  }

  private get fieldNames(): string[] {
    return [this.fields.owner, this.fields.status].filter((f): f is string => f !== undefined);
  }

  private async pollPass(): Promise<number> {
    if (!this.mongo.isConnected) return 0;
    const crm = this.gateway.crm;
    const mark = await this.watermarks.get(crm.name);
    if (!mark) {
      // The first poll of a new deployment: changes from now on, not the CRM's whole history.
      await this.watermarks.advance(crm.name, new Date());
      return 0;
    }
    const from = this.behind ? mark : new Date(mark.getTime() - this.settings.overlapMs);
    const records = await crm.changedSince(from, this.fieldNames, this.settings.batch);
    this.behind = records.length >= this.settings.batch;
    let taken = 0;
    let upTo = mark;
    for (const record of records) {
      try {
        if (await this.takeBack(record, 'poll')) taken++;
      } catch (err) {
        // The watermark stays before this record, so the next pass reads it again.
        this.logger.warn({ crmId: record.crmId, err: (err as Error).message }, 'CRM change not taken back; the next poll retries');
        break;
      }
      if (record.modifiedAt.getTime() > upTo.getTime()) upTo = record.modifiedAt;
    }
    if (upTo.getTime() > mark.getTime()) await this.watermarks.advance(crm.name, upTo);
    else if (records.length >= this.settings.batch) this.logger.warn({ crm: crm.name, batch: this.settings.batch }, 'more CRM records share one modification stamp than a poll reads; raise CRM_CHANGE_BATCH');
    return taken;
  }

  /** A webhook named this CRM record: read it as it is now and take back what sales changed. */
  async takeBackRecord(crmId: string, links: Link[]): Promise<boolean> {
    let record: CrmRecordSeen;
    try {
      record = await this.gateway.crm.readChanged(crmId, this.fieldNames);
    } catch (err) {
      // A record the CRM no longer has (deleted since) has nothing to take back; an outage is thrown.
      if (err instanceof CrmError && !err.transient) return false;
      throw err;
    }
    return this.takeBack(record, 'webhook', links);
  }

  /**
   * Publishes what sales changed on this CRM record, if anything: a record leadmesh did not write,
   * or one that holds only leadmesh's own values or changes already taken back, publishes nothing.
   */
  async takeBack(record: CrmRecordSeen, via: CrmChangeDoc['via'], links: Link[] = []): Promise<boolean> {
    const leadId = record.leadId ?? (await this.store.findByCrmId(record.crmId))?._id;
    if (!leadId) return false;
    const doc = await this.store.find(leadId);
    if (!doc || doc.erasedAt || doc.crmId !== record.crmId || !this.detect(doc, record)) return false;
    const crm = this.gateway.crm.name;
    return inBackgroundSpan('crm change', { 'leadmesh.lead_id': leadId, 'leadmesh.crm': crm, 'leadmesh.crm_change.via': via }, async () => {
      const change = this.detect(doc, record)!;
      const ownerId = change.ownerChanged ? ((await this.store.ownerIdForCrmUser(crm, change.crmOwnerId)) ?? '') : '';
      const eventId = `crm-change:${record.crmId}:${record.modifiedAt.getTime()}`;
      const seenAt = new Date();
      const result = await this.store.commit(leadId, eventId, doc, (current) => {
        // Decided again on the record as it is now: a sync or another replica may have written it meanwhile.
        const now = current && !current.erasedAt ? this.detect(current, record) : undefined;
        if (!now) return null;
        const entry: CrmChangeDoc = { crmModifiedAt: record.modifiedAt, seenAt, ownerChanged: now.ownerChanged, ownerId: now.ownerChanged ? ownerId : '', crmOwnerId: now.crmOwnerId, crmStatus: now.crmStatus, accepted: now.accepted, via };
        return {
          set: { crmSeen: now.seen, crmChanges: [...(current?.crmChanges ?? []), entry].slice(-KEEP_CRM_CHANGES) },
          events: [
            encodeEvent(SUBJECTS.crmLeadChanged, events.CrmLeadChangedSchema, {
              eventId: `crm.lead_changed:${leadId}:${eventId}`,
              leadId,
              occurredAt: timestampFromDate(seenAt),
              crm,
              crmId: record.crmId,
              crmModifiedAt: timestampFromDate(record.modifiedAt),
              ownerChanged: entry.ownerChanged,
              ownerId: entry.ownerId,
              crmOwnerId: entry.ownerChanged ? entry.crmOwnerId : '',
              crmStatus: entry.crmStatus,
              accepted: entry.accepted,
            }),
          ],
        };
      });
      if (result !== 'applied') return false;
      this.logger.info({ leadId, crmId: record.crmId, via, ownerChanged: change.ownerChanged, ownerMapped: ownerId !== '', accepted: change.accepted }, 'CRM change taken back');
      return true;
    }, links);
  }

  private detect(doc: SyncRecordDoc, record: CrmRecordSeen) {
    return detectCrmChange(record, this.fields, doc.written ?? doc.fields ?? {}, doc.crmSeen, this.accepted);
  }
}
