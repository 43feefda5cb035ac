import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Erasures, EventConsumers, type EventContext } from '@leadmesh/platform';
import { CrmSyncService } from './crm-sync.service.js';
import type { LeadEvent } from './lead-events.js';

export interface CrmRetryPolicy {
  maxDeliver: number;
  backoffMs: number[];
}

/**
 * A CRM outage is waited out, not dead-lettered: each delivery waits in hand for the CRM
 * (CRM_OUTAGE_WAIT_MS, 25 s, see CrmAvailability) before it goes back with a short backoff, so by
 * default about an hour of deliveries, then the lead goes to crm-sync's dead letters for a replay.
 * The backoff stays short because the wait in hand already spaces the deliveries, and a long one
 * would keep an event away from a CRM that is back. CRM_SYNC_MAX_DELIVER and CRM_SYNC_BACKOFF_MS
 * (comma-separated milliseconds, the last repeats) change it.
 */
export function retryPolicyFromEnv(env: Record<string, string | undefined>): CrmRetryPolicy {
  const maxDeliver = Number(env.CRM_SYNC_MAX_DELIVER ?? 140);
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new Error(`CRM_SYNC_MAX_DELIVER must be a positive integer, got "${env.CRM_SYNC_MAX_DELIVER}"`);
  const raw = env.CRM_SYNC_BACKOFF_MS ?? '500,1000,2000,5000';
  const backoffMs = raw.split(',').map((s) => Number(s.trim()));
  if (backoffMs.length === 0 || backoffMs.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new Error(`CRM_SYNC_BACKOFF_MS must be comma-separated non-negative integers (ms), got "${raw}"`);
  }
  return { maxDeliver, backoffMs };
}

/** crm-sync's durable consumers: translate and delegate. */
@Injectable()
export class CrmSyncConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(CrmSyncService) private readonly crmSync: CrmSyncService,
    @Inject(Erasures) private readonly erasures: Erasures,
  ) {}

  onModuleInit(): void {
    this.erasures.register(this.consumers, (leadId) => this.crmSync.forget(leadId));
    const retry = retryPolicyFromEnv(process.env);
    // On the last delivery a failure is given up into crm-sync's own dead letters instead of thrown.
    const lastTry = (ctx: EventContext) => ctx.deliveryCount >= retry.maxDeliver;
    const on = (ctx: EventContext, leadEvent: LeadEvent) => this.crmSync.onLeadEvent(leadEvent, ctx, lastTry(ctx)).then(() => undefined);
    // Every event that carries part of the lead: crm-sync builds the CRM record from these alone.
    this.consumers.register({
      durable: 'crm-sync-lead-routed',
      subject: SUBJECTS.leadRouted,
      schema: events.LeadRoutedSchema,
      retry,
      handle: (event, ctx) => on(ctx, { kind: 'routed', event }),
    });
    this.consumers.register({
      durable: 'crm-sync-lead-scored',
      subject: SUBJECTS.leadScored,
      schema: events.LeadScoredSchema,
      retry,
      handle: (event, ctx) => on(ctx, { kind: 'scored', event }),
    });
    this.consumers.register({
      durable: 'crm-sync-lead-reassigned',
      subject: SUBJECTS.leadReassigned,
      schema: events.LeadReassignedSchema,
      retry,
      handle: (event, ctx) => on(ctx, { kind: 'reassigned', event }),
    });
    this.consumers.register({
      durable: 'crm-sync-nurture-enrolled',
      subject: SUBJECTS.nurtureEnrolled,
      schema: events.NurtureEnrolledSchema,
      retry,
      handle: (event, ctx) => on(ctx, { kind: 'enrolled', event }),
    });
    this.consumers.register({
      durable: 'crm-sync-lead-unsubscribed',
      subject: SUBJECTS.leadUnsubscribed,
      schema: events.LeadUnsubscribedSchema,
      retry,
      handle: (event, ctx) => on(ctx, { kind: 'unsubscribed', event }),
    });
  }
}
