import { Inject, Injectable } from '@nestjs/common';
import { fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { crmsync, intake, lead, nurture, scoring } from '@leadmesh/contracts';
import { buildJourney, pendingSteps, type JourneyParts } from './domain/journey.js';
import { IntakeService } from './intake.service.js';
import { LeadStore } from './lead.store.js';
import { MeshClients } from './mesh.clients.js';

type Journey = MessageInitShape<typeof intake.GetLeadJourneyResponseSchema>;

const date = (t: Timestamp | undefined) => (t ? timestampDate(t) : undefined);

/** GetLeadJourney: what every service knows about a lead, asked over gRPC, as one timeline. */
@Injectable()
export class JourneyService {
  constructor(
    @Inject(IntakeService) private readonly intake: IntakeService,
    @Inject(LeadStore) private readonly store: LeadStore,
    @Inject(MeshClients) private readonly mesh: MeshClients,
  ) {}

  async getLeadJourney(leadId: string): Promise<Journey> {
    const record = await this.intake.getLead(leadId);
    const unavailable: string[] = [];
    // A service that is down makes the journey incomplete, not failed.
    const ask = async <T>(service: string, call: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await call();
      } catch (err) {
        if ((err as ServiceError).code !== status.NOT_FOUND) unavailable.push(service);
        return undefined;
      }
    };
    const [submissions, activities, score, assignment, enrollments, sync] = await Promise.all([
      this.store.submissionsOf(leadId),
      this.store.activitiesOf(leadId, 200),
      ask('scoring', () => this.mesh.scoring.getLeadScore({ leadId }).then((r) => r.score)),
      ask('routing', () => this.mesh.routing.getAssignment({ leadId }).then((r) => r.assignment)),
      ask('nurture', () => this.mesh.nurture.getEnrollments({ leadId }).then((r) => r.enrollments)),
      ask('crm-sync', () => this.mesh.crmSync.getSyncStatus({ leadId }).then((r) => r.record)),
    ]);
    const subs = submissions.map((s) => ({
      doc: s,
      source: fromJson(lead.SourceSchema, (s.source ?? {}) as JsonValue),
      consent: fromJson(lead.ConsentSchema, (s.consent ?? {}) as JsonValue),
    }));
    const parts: JourneyParts = {
      activities: activities.map((a) => ({ occurredAt: a.occurredAt, type: a.type, url: a.url })),
      submissions: subs.map(({ doc, source, consent }) => ({
        receivedAt: doc.receivedAt,
        channel: doc.channel,
        outcome: doc.outcome,
        formId: source.formId || undefined,
        consent: consent.emailMarketing,
      })),
      score: score && {
        scoredAt: date(score.scoredAt),
        grade: score.grade,
        fitScore: score.fitScore,
        engagementScore: score.engagementScore,
        stage: scoring.LifecycleStage[score.lifecycleStage],
        ruleSetVersion: score.ruleSetVersion,
        topReasons: [...score.reasons].sort((a, b) => Math.abs(b.points) - Math.abs(a.points)).slice(0, 3).map((r) => r.explanation),
      },
      assignment: assignment && {
        assignedAt: date(assignment.assignedAt),
        ownerName: assignment.ownerName,
        ownerId: assignment.ownerId,
        teamId: assignment.teamId,
        ruleId: assignment.ruleId,
        reason: assignment.reason,
        acceptedAt: date(assignment.acceptedAt),
        slaDueAt: date(assignment.slaDueAt),
      },
      enrollments: (enrollments ?? []).map((e) => ({
        enrolledAt: date(e.enrolledAt),
        trackId: e.trackId,
        reason: e.reason,
        steps: e.steps.map((st) => ({ stepId: st.stepId, status: nurture.StepStatus[st.status], sentAt: date(st.sentAt), dueAt: date(st.dueAt) })),
      })),
      sync: sync && {
        status: crmsync.SyncStatus[sync.status],
        crmId: sync.crmId,
        syncedAt: date(sync.syncedAt),
        latencyMs: Number(sync.latencyMs),
        lastError: sync.lastError,
        attempts: sync.attempts,
        campaigns: sync.campaignMemberships.map((c) => ({ campaignId: c.campaignId, source: c.source, status: c.status, addedAt: date(c.addedAt) })),
        issues: sync.issues.map((i) => ({ code: i.code, message: i.message })),
        converted: sync.converted && { contactId: sync.converted.contactId, rule: sync.converted.rule, seenAt: date(sync.converted.convertedSeenAt) },
        crmChanges: sync.crmChanges.map((c) => ({ seenAt: date(c.seenAt), ownerId: c.ownerId, crmOwnerId: c.crmOwnerId, crmStatus: c.crmStatus, accepted: c.accepted, via: c.via })),
      },
    };
    return {
      lead: record,
      submissions: subs.map(({ doc, source, consent }) => ({
        submissionId: doc._id,
        receivedAt: timestampFromDate(doc.receivedAt),
        channel: doc.channel,
        outcome: doc.outcome === 'NEW_LEAD' ? intake.SubmissionOutcome.NEW_LEAD : intake.SubmissionOutcome.EXISTING_CONTACT,
        consent,
        source,
        traceId: doc.traceId ?? '',
      })),
      score,
      assignment,
      enrollments: enrollments ?? [],
      sync,
      steps: buildJourney(parts).map((s) => ({ occurredAt: timestampFromDate(s.occurredAt), service: s.service, summary: s.summary })),
      traceId: subs[0]?.doc.traceId ?? '',
      unavailable,
      pending: pendingSteps(parts),
    };
  }
}
