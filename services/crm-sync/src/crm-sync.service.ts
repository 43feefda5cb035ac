import { Inject, Injectable } from '@nestjs/common';
import { type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, crmsync, events, intake, nurture, routing, scoring } from '@leadmesh/contracts';
import { LOGGER, Metrics, NotFoundError, PoisonEventError, encodeEvent, type EventContext, type Logger } from '@leadmesh/platform';
import { CrmValidationError } from './crm/crm-port.js';
import { FieldMappingError, type CrmLeadSnapshot } from './domain/field-mapping.js';
import { CrmGateway } from './crm.gateway.js';
import { LeadSources } from './lead-sources.js';
import { SyncStore, type SyncRecordDoc } from './sync.store.js';

const STATUS = { PENDING: crmsync.SyncStatus.PENDING, SYNCED: crmsync.SyncStatus.SYNCED, FAILED: crmsync.SyncStatus.FAILED } as const;

/** crm-sync's use cases: put each routed lead in the CRM once, and say where it stands. */
@Injectable()
export class CrmSyncService {
  constructor(
    @Inject(SyncStore) private readonly store: SyncStore,
    @Inject(LeadSources) private readonly sources: LeadSources,
    @Inject(CrmGateway) private readonly gateway: CrmGateway,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async getSyncStatus(leadId: string): Promise<MessageInitShape<typeof crmsync.SyncRecordSchema>> {
    const doc = await this.store.find(leadId);
    if (!doc) throw new NotFoundError(`sync record for lead ${leadId}`);
    return toSyncRecord(leadId, doc);
  }

  /**
   * Gathers the lead from its owners over gRPC, maps it and upserts it. A CRM or mapping validation
   * error is permanent and parks the event in dead letters; an outage or rate limit is retried.
   */
  async onLeadRouted(event: events.LeadRouted, ctx: EventContext): Promise<void> {
    if (await this.store.alreadyApplied(event.leadId, ctx.eventId)) return;
    const { lead, score, assignment, enrollments } = await this.sources.gather(event.leadId);
    if (!lead) throw new Error(`intake has no lead ${event.leadId} yet`);
    const receivedAt = lead.receivedAt ? timestampDate(lead.receivedAt) : new Date();
    const snapshot = toSnapshot(lead, score, assignment ?? event.assignment, enrollments);
    await this.store.recordAttempt(event.leadId, this.gateway.crm.name, receivedAt);

    let result;
    try {
      result = await this.gateway.upsert(snapshot);
    } catch (err) {
      if (err instanceof CrmValidationError || err instanceof FieldMappingError) {
        await this.store.recordFailure(event.leadId, err.message);
        throw new PoisonEventError(err.message);
      }
      await this.store.recordFailure(event.leadId, (err as Error).message);
      throw err;
    }

    const syncedAt = new Date();
    const latencyMs = syncedAt.getTime() - receivedAt.getTime();
    const { crmId, fields } = result;
    await this.store.apply(event.leadId, ctx.eventId, () => ({
      set: { status: 'SYNCED', crmId, syncedAt, latencyMs, fields, lastError: null },
      events: [
        encodeEvent(SUBJECTS.crmSynced, events.CrmSyncedSchema, {
          eventId: `crm.synced:${event.leadId}:${ctx.eventId}`,
          leadId: event.leadId,
          occurredAt: timestampFromDate(syncedAt),
          crmId,
          latencyMs: BigInt(latencyMs),
        }),
      ],
    }));
    this.metrics.leadFinished();
    this.logger.info({ leadId: event.leadId, crmId, latencyMs }, 'lead synced to CRM');
  }
}

function toSnapshot(
  lead: intake.Lead,
  score: scoring.LeadScore | undefined,
  assignment: routing.Assignment | undefined,
  enrollments: nurture.Enrollment[],
): CrmLeadSnapshot {
  const p = lead.profile;
  const c = p?.contact;
  const active = enrollments.find((e) => e.status === nurture.EnrollmentStatus.ACTIVE);
  return {
    leadId: lead.leadId,
    contact: {
      email: c?.email ?? '',
      firstName: c?.firstName || undefined,
      lastName: c?.lastName || undefined,
      phone: c?.phone || undefined,
      company: c?.company || undefined,
      jobTitle: c?.jobTitle || undefined,
      country: c?.country || undefined,
    },
    source: {
      formId: p?.source?.formId || undefined,
      utmSource: p?.source?.utmSource || undefined,
      utmMedium: p?.source?.utmMedium || undefined,
      utmCampaign: p?.source?.utmCampaign || undefined,
    },
    consent: { emailMarketing: p?.consent?.emailMarketing ?? false },
    score: score && {
      fitScore: score.fitScore,
      engagementScore: score.engagementScore,
      grade: score.grade,
      lifecycleStage: score.lifecycleStage === scoring.LifecycleStage.MQL ? 'mql' : 'lead',
      ruleSetVersion: score.ruleSetVersion,
    },
    assignment: assignment && { ownerId: assignment.ownerId, ownerName: assignment.ownerName, teamId: assignment.teamId },
    nurture: active && { trackId: active.trackId },
    receivedAt: lead.receivedAt ? timestampDate(lead.receivedAt) : new Date(),
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
  };
}
