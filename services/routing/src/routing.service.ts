import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, lead, routing, scoring } from '@leadmesh/contracts';
import { FailedPreconditionError, Metrics, NotFoundError, PermissionDeniedError, PoisonEventError, encodeEvent, type Caller, type EventContext } from '@leadmesh/platform';
import { ACCEPT_FOR_OTHERS_SCOPE, InvalidLeadError, mayAcceptAs, ownerSubject, slaDueAt, type Team } from './domain/index.js';
import { AssignmentStore, KEEP_HISTORY } from './assignment.store.js';
import { RouteDecider } from './route-decider.js';
import { toAssignment, toRoutingLead, timestampJson, type AssignmentInit } from './routing.mapping.js';
import { SLA_SETTINGS, type SlaSettings } from './sla-settings.js';

/** Routing's use cases: preview a decision for anyone, assign each scored lead once, record acceptance. */
@Injectable()
export class RoutingService {
  constructor(
    @Inject(AssignmentStore) private readonly store: AssignmentStore,
    @Inject(RouteDecider) private readonly decider: RouteDecider,
    @Inject(SLA_SETTINGS) private readonly sla: SlaSettings,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Who would own this lead now, and why, with the same explanation a real assignment keeps. Claims nothing, stores nothing. */
  async previewRoute(request: routing.PreviewRouteRequest): Promise<AssignmentInit> {
    const now = new Date();
    const { decision, directory } = await this.decider.preview(toRoutingLead(request.profile, request.score), now);
    return toAssignment('', decision, directory.owners, { assignedAt: now, slaDueAt: this.dueAt(now, directory.teams, decision.teamId) });
  }

  /** Right to erasure: the lead's assignment and its history. Round-robin turns keep only ids. */
  async forget(leadId: string): Promise<void> {
    await this.store.forget(leadId);
  }

  async getAssignment(leadId: string): Promise<routing.Assignment> {
    const doc = await this.store.find(leadId);
    if (!doc?.assignment) throw new NotFoundError(`assignment for lead ${leadId}`);
    return fromJson(routing.AssignmentSchema, doc.assignment as JsonValue);
  }

  /** A lead is routed on its first score; later scores of an assigned lead change nothing here. */
  async onLeadScored(event: events.LeadScored, ctx: EventContext): Promise<void> {
    // The one read: a redelivery, an erased lead or a later score stops here, before any turn is taken.
    const existing = await this.store.eventState(event.leadId);
    if ((await this.store.alreadyApplied(existing, ctx.eventId)) || existing?.ownerId) return;

    const now = new Date();
    const routingLead = toRoutingLead(event.profile, event.score);
    const { decision, directory } = await this.decider.decideAndClaim(routingLead, now).catch((err: unknown) => {
      throw err instanceof InvalidLeadError ? new PoisonEventError(err.message) : err;
    });
    const due = this.dueAt(now, directory.teams, decision.teamId);
    const assignment = create(routing.AssignmentSchema, toAssignment(event.leadId, decision, directory.owners, { assignedAt: now, slaDueAt: due }));
    const assignmentJson = toJson(routing.AssignmentSchema, assignment) as Record<string, unknown>;
    // The read above found no assignment: insert without reading again.
    const result = await this.store.apply(event.leadId, ctx.eventId, (current) =>
      current?.assignment
        ? null
        : {
            set: {
              assignment: assignmentJson,
              ownerId: decision.ownerId,
              teamId: decision.teamId,
              slaDueAt: due ?? null,
              nextSlaCheckAt: due ?? null,
              acceptedAt: null,
              previousOwnerIds: [],
              lead: routingLead,
              profile: event.profile ? toJson(lead.LeadProfileSchema, event.profile) : null,
              score: event.score ? toJson(scoring.LeadScoreSchema, event.score) : null,
            },
            append: {
              history: {
                values: [{ kind: 'assigned', ...assignmentJson, via: decision.via, ruleSetVersion: decision.ruleSetVersion, candidates: decision.candidates }],
                keep: KEEP_HISTORY,
              },
            },
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
      { likelyNew: true },
    );
    if (result === 'applied') this.decider.countAssignment(decision, now);
    this.metrics.leadFinished();
  }

  /**
   * The current owner takes the lead, which stops its SLA clock. Accepting twice is harmless. The
   * caller acts as itself unless allowed to act for others (mayAcceptAs); with authentication off
   * (a local run) there is no caller to check.
   */
  async acceptLead(leadId: string, ownerId: string, caller?: Caller): Promise<routing.Assignment> {
    if (caller && !mayAcceptAs(caller, ownerId)) {
      throw new PermissionDeniedError(`owner_id: ${caller.subject} may accept leads only as ${ownerSubject('<its owner id>')}, or with scope ${ACCEPT_FOR_OTHERS_SCOPE}`);
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const doc = await this.store.find(leadId);
      if (!doc?.assignment) throw new NotFoundError(`assignment for lead ${leadId}`);
      if (doc.ownerId !== ownerId) {
        throw new FailedPreconditionError(`lead ${leadId} is assigned to ${doc.ownerId}, not ${ownerId}; only the current owner can accept it`);
      }
      if (doc.acceptedAt) return fromJson(routing.AssignmentSchema, doc.assignment as JsonValue);
      const acceptedAt = new Date();
      const assignment = { ...doc.assignment, acceptedAt: timestampJson(acceptedAt) };
      if (await this.store.accept(doc, acceptedAt, assignment)) return fromJson(routing.AssignmentSchema, assignment as JsonValue);
    }
    throw new Error(`too many concurrent changes to the assignment of lead ${leadId}`);
  }

  private dueAt(assignedAt: Date, teams: readonly Team[], teamId: string): Date | undefined {
    const team = teams.find((t) => t.id === teamId);
    return team ? slaDueAt(assignedAt, team, this.sla.overrideSeconds) : undefined;
  }
}
