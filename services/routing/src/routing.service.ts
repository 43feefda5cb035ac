import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, routing, scoring, type lead } from '@leadmesh/contracts';
import { Metrics, NotFoundError, encodeEvent, type EventContext } from '@leadmesh/platform';
import { decideRoute, type RouteDecision, type RoutingLead } from './domain/route.js';
import { AssignmentStore } from './assignment.store.js';
import { RoutingConfigRegistry } from './routing-config.registry.js';

type AssignmentInit = MessageInitShape<typeof routing.AssignmentSchema>;

/** Routing's use cases: preview a decision for anyone, and assign each scored lead once. */
@Injectable()
export class RoutingService {
  constructor(
    @Inject(AssignmentStore) private readonly store: AssignmentStore,
    @Inject(RoutingConfigRegistry) private readonly registry: RoutingConfigRegistry,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Who would own this lead now, and why. Reads the current load; claims nothing, stores nothing. */
  async previewRoute(request: routing.PreviewRouteRequest): Promise<AssignmentInit> {
    const now = new Date();
    const decision = this.decide(toRoutingLead(request.profile, request.score), await this.store.loads(utcDay(now)), now);
    return this.toAssignment('', decision, now);
  }

  async getAssignment(leadId: string): Promise<routing.Assignment> {
    const doc = await this.store.find(leadId);
    if (!doc?.assignment) throw new NotFoundError(`assignment for lead ${leadId}`);
    return fromJson(routing.AssignmentSchema, doc.assignment as JsonValue);
  }

  /** A lead is routed on its first score; later scores of an assigned lead change nothing here. */
  async onLeadScored(event: events.LeadScored, ctx: EventContext): Promise<void> {
    const existing = await this.store.find(event.leadId);
    if (existing?.assignment || (await this.store.alreadyApplied(event.leadId, ctx.eventId))) return;

    const now = new Date();
    const day = utcDay(now);
    const routingLead = toRoutingLead(event.profile, event.score);
    let decision: RouteDecision | undefined;
    for (let attempt = 0; attempt < 20 && !decision; attempt++) {
      const load = await this.store.loads(day);
      const candidate = this.decide(routingLead, load, now);
      if (await this.store.claim(candidate.ownerId, load.get(candidate.ownerId)?.assignedTotal ?? 0, day)) decision = candidate;
    }
    if (!decision) throw new Error(`could not claim an owner for lead ${event.leadId}: too much contention`);

    const assignment = create(routing.AssignmentSchema, this.toAssignment(event.leadId, decision, now));
    const assignmentJson = toJson(routing.AssignmentSchema, assignment) as Record<string, unknown>;
    await this.store.apply(event.leadId, ctx.eventId, (current) =>
      current?.assignment
        ? null
        : {
            set: { assignment: assignmentJson, ownerId: decision.ownerId },
            append: { history: { values: [{ ...assignmentJson, via: decision.via, candidates: decision.candidates }], keep: 20 } },
            events: [
              encodeEvent(SUBJECTS.leadRouted, events.LeadRoutedSchema, {
                eventId: `lead.routed:${event.leadId}:${ctx.eventId}`,
                leadId: event.leadId,
                occurredAt: timestampFromDate(now),
                profile: event.profile,
                score: event.score,
                assignment,
              }),
            ],
          },
    );
    this.metrics.leadFinished();
  }

  private decide(routingLead: RoutingLead, load: Map<string, { assignedToday: number; assignedTotal: number }>, now: Date): RouteDecision {
    const { ruleSet, owners, teams, accountOwners } = this.registry.config;
    return decideRoute(routingLead, { ruleSet, owners, teams, accountOwners, load, now });
  }

  private toAssignment(leadId: string, decision: RouteDecision, now: Date): AssignmentInit {
    const owner = this.registry.config.owners.find((o) => o.id === decision.ownerId);
    return {
      leadId,
      ownerId: decision.ownerId,
      ownerName: owner?.name ?? '',
      teamId: decision.teamId,
      ruleId: decision.ruleId,
      reason: decision.reason,
      assignedAt: timestampFromDate(now),
    };
  }
}

function toRoutingLead(profile: lead.LeadProfile | undefined, score: scoring.LeadScore | undefined): RoutingLead {
  const c = profile?.contact;
  return {
    email: c?.email ?? '',
    country: c?.country || undefined,
    companySize: c?.companySize || undefined,
    industry: c?.industry || undefined,
    product: profile?.interest?.product || undefined,
    formId: profile?.source?.formId || undefined,
    utmSource: profile?.source?.utmSource || undefined,
    grade: score?.grade || undefined,
    stage: score?.lifecycleStage === scoring.LifecycleStage.MQL ? 'MQL' : score ? 'LEAD' : undefined,
  };
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
