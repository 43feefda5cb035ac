import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { EventPublisher, LOGGER, MongoStore, PeriodicWork, encodeEvent, type Logger } from '@leadmesh/platform';
import { ChangeWatermarkStore } from './change-watermark.store.js';
import { CrmGateway } from './crm.gateway.js';
import type { CrmAccountSeen } from './domain/crm-accounts.js';
import { SyncStore } from './sync.store.js';

type Env = Record<string, string | undefined>;

export interface CrmAccountSettings {
  /** How often each replica polls the CRM for modified accounts; 0 turns it off (CRM_ACCOUNT_POLL_MS). */
  pollMs: number;
  /** Modified accounts read in one poll at most (CRM_ACCOUNT_BATCH); the rest waits for the next. */
  batch: number;
  /** How far before the watermark each poll reads again (CRM_ACCOUNT_OVERLAP_MS), as for lead changes. */
  overlapMs: number;
}

/** Accounts change far less often than leads: every 5 minutes by default. */
export function accountSettingsFromEnv(env: Env): CrmAccountSettings {
  const int = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be a non-negative integer, got "${raw}"`);
    return value;
  };
  const batch = int('CRM_ACCOUNT_BATCH', 2000);
  if (batch < 1) throw new Error(`CRM_ACCOUNT_BATCH must be positive, got ${batch}`);
  return { pollMs: int('CRM_ACCOUNT_POLL_MS', 300_000), batch, overlapMs: int('CRM_ACCOUNT_OVERLAP_MS', env.CRM_PROVIDER === 'hubspot' ? 60_000 : 5_000) };
}

export const CRM_ACCOUNT_SETTINGS = Symbol('crm-sync.account-settings');

/**
 * Accounts from the CRM: routing matches a lead's email domain to an account and gives the lead to
 * the account's owner, and that list is the CRM's, not a file. crm-sync polls the CRM's accounts by
 * modification stamp (the watermark is kept per CRM in crm-sync's store, so a restart resumes; the
 * first poll of a deployment reads them all) and publishes each as it is now on
 * leadmesh.crm.account_changed, owner mapped to routing's owner where crm-sync knows the CRM user.
 * No outbox is needed: the CRM is the record, the watermark moves only past accounts published, and
 * an account published again (a crash, replicas side by side) has the same Nats-Msg-Id and stamp,
 * which routing applies once.
 */
@Injectable()
export class CrmAccounts implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly work: PeriodicWork<number>;
  /** The last poll read a full batch: the next starts at the watermark itself, so a burst cannot hold it in the overlap. */
  private behind = false;

  constructor(
    @Inject(SyncStore) private readonly store: SyncStore,
    @Inject(ChangeWatermarkStore) private readonly watermarks: ChangeWatermarkStore,
    @Inject(CrmGateway) private readonly gateway: CrmGateway,
    @Inject(MongoStore) private readonly mongo: MongoStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(CRM_ACCOUNT_SETTINGS) readonly settings: CrmAccountSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.work = new PeriodicWork('CRM account poll', () => this.pollPass(), { everyMs: settings.pollMs || 60_000, logger });
  }

  onApplicationBootstrap(): void {
    if (this.settings.pollMs > 0) this.work.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.work.stop();
  }

  /** One poll now (or the one under way); returns how many accounts it published. */
  async poll(): Promise<number> {
    return (await this.work.runNow()) ?? 0;
  }

  private async pollPass(): Promise<number> {
    if (!this.mongo.isConnected) return 0;
    const crm = this.gateway.crm;
    // Its own watermark beside the lead changes' one (keyed by the CRM's name alone).
    const key = `${crm.name}:accounts`;
    const mark = (await this.watermarks.get(key)) ?? new Date(0);
    const from = this.behind ? mark : new Date(Math.max(0, mark.getTime() - this.settings.overlapMs));
    const accounts = await crm.accountsChangedSince(from, this.settings.batch);
    this.behind = accounts.length >= this.settings.batch;
    let upTo = mark;
    let published = 0;
    for (const account of accounts) {
      try {
        await this.publish(crm.name, account);
        published++;
      } catch (err) {
        // The watermark stays before this account, so the next pass reads it again.
        this.logger.warn({ crm: crm.name, accountId: account.accountId, err: (err as Error).message }, 'CRM account not published; the next poll retries');
        break;
      }
      if (account.modifiedAt.getTime() > upTo.getTime()) upTo = account.modifiedAt;
    }
    if (upTo.getTime() > mark.getTime()) await this.watermarks.advance(key, upTo);
    if (published > 0) this.logger.info({ crm: crm.name, published }, 'CRM accounts published');
    return published;
  }

  private async publish(crm: string, account: CrmAccountSeen): Promise<void> {
    const ownerId = account.crmOwnerId ? ((await this.store.ownerIdForCrmUser(crm, account.crmOwnerId)) ?? '') : '';
    const stamp = account.modifiedAt.getTime();
    await this.publisher.publish(
      encodeEvent(SUBJECTS.crmAccountChanged, events.CrmAccountChangedSchema, {
        eventId: `crm.account_changed:${crm}:${account.accountId}:${stamp}`,
        occurredAt: timestampFromDate(new Date()),
        crm,
        accountId: account.accountId,
        name: account.name,
        domains: account.domains,
        ownerId,
        crmOwnerId: account.crmOwnerId,
        crmModifiedAt: timestampFromDate(account.modifiedAt),
      }),
    );
  }
}
