import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { intake, lead, scoring } from '@leadmesh/contracts';
import { UnavailableError } from '@leadmesh/platform';
import { decidePersonalization, type PersonalizationDecision } from './domain/personalization.js';
import { LeadStore } from './lead.store.js';
import { MeshClients } from './mesh.clients.js';

// Scoring's and nurture's pure RPCs want a contact with an email. An anonymous visitor has none, so
// the what-if is asked for an address that can belong to no one (RFC 2606 reserves .invalid): no
// free-mail penalty, no domain, nothing personal.
const ANONYMOUS_PROFILE = create(lead.LeadProfileSchema, { contact: { email: 'anonymous-visitor@visitor.invalid' } });

/**
 * GetPersonalization: intake knows the visitor (its activities, and the lead it became); scoring
 * grades it with the same rules as the pipeline (the stored score of a lead, a what-if ScoreLead
 * for an anonymous visitor); nurture's RecommendTrack picks the track; intake's versioned rules
 * decide what the page shows. Reads over gRPC only: no other service's store is touched.
 */
@Injectable()
export class PersonalizationService {
  constructor(
    @Inject(LeadStore) private readonly store: LeadStore,
    @Inject(MeshClients) private readonly mesh: MeshClients,
  ) {}

  async forVisitor(visitorId: string): Promise<PersonalizationDecision> {
    const leadId = (await this.store.findContactByVisitor(visitorId))?._id;
    const contact = leadId ? await this.store.findContact(leadId) : undefined;
    const profile = contact ? fromJson(lead.LeadProfileSchema, contact.profile as JsonValue) : ANONYMOUS_PROFILE;
    const activities = contact ? await this.store.activitiesOf(contact._id) : await this.store.activitiesOfVisitor(visitorId);
    const score = await this.ask('scoring', async () => {
      // A lead's stored score counts everything the pipeline has seen; until it is scored, the what-if.
      const stored = contact ? await this.mesh.scoring.getLeadScore({ leadId: contact._id }).then((r) => r.score).catch(notFound) : undefined;
      if (stored) return stored;
      const scored = await this.mesh.scoring.scoreLead({
        profile,
        activities: activities.map((a) => ({ type: a.type, occurredAt: timestampFromDate(a.occurredAt) })),
      });
      return scored.score!;
    });
    const track = await this.ask('nurture', () => this.mesh.nurture.recommendTrack({ profile, score, routedToSales: false }));
    const c = profile.contact;
    return decidePersonalization({
      known: contact !== undefined,
      industry: c?.industry || undefined,
      companySize: c?.companySize || undefined,
      grade: score.grade,
      mql: score.lifecycleStage === scoring.LifecycleStage.MQL,
      scoringRuleSetVersion: score.ruleSetVersion,
      // Engagement reasons only: they speak of activities, where a fit reason may quote the job title.
      scoreReasons: score.reasons.filter((r) => r.dimension === scoring.ScoreDimension.ENGAGEMENT && r.points !== 0).map((r) => r.explanation),
      activityCount: activities.length,
      track: track.trackId ? { id: track.trackId, reason: track.reason } : undefined,
    });
  }

  /** A peer that cannot answer makes the read unavailable (retry), not an internal error. */
  private async ask<T>(service: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const code = (err as ServiceError).code;
      if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) throw new UnavailableError(`${service} unavailable, retry`);
      throw err;
    }
  }
}

function notFound(err: unknown): undefined {
  if ((err as ServiceError).code === status.NOT_FOUND) return undefined;
  throw err;
}

export function toPersonalizationMessage(d: PersonalizationDecision): MessageInitShape<typeof intake.PersonalizationSchema> {
  return {
    known: d.known,
    segment: d.segment,
    grade: d.grade,
    gradeBand: intake.GradeBand[d.gradeBand],
    recommendedTrackId: d.recommendedTrackId,
    recommendedContent: d.recommendedContent,
    callToAction: d.callToAction,
    rulesVersion: d.rulesVersion,
    scoringRuleSetVersion: d.scoringRuleSetVersion,
    reasons: d.reasons,
    activityCount: d.activityCount,
  };
}
