import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, lead, routing, scoring } from '@leadmesh/contracts';
import { FailedPreconditionError, LOGGER, Metrics, NotFoundError, PermissionDeniedError, PoisonEventError, encodeEvent, type Caller, type EventContext, type Logger } from '@leadmesh/platform';
import { ACCEPT_FOR_OTHERS_SCOPE, InvalidLeadError, acceptance, mayAcceptAs, ownerForCrmUser, ownerSubject, planCrmChange, slaDueAt, type Team } from './domain/index.js';
import { AssignmentStore, KEEP_HISTORY } from './assignment.store.js';
import { OwnerDirectory } from './owner-directory.js';
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
    @Inject(OwnerDirectory) private readonly owners: OwnerDirectory,
    @Inject(LOGGER) private readonly logger: Logger,
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
      const accepted = acceptance(ownerId, timestampJson(new Date()), doc.assignment, 'api');
      if (await this.store.accept(doc, accepted)) return fromJson(routing.AssignmentSchema, accepted.set.assignment as JsonValue);
    }
    throw new Error(`too many concurrent changes to the assignment of lead ${leadId}`);
  }

  /**
   * Sales changed the lead in the CRM (crm-sync saw it): a reassignment there moves the assignment
   * here, with a fresh SLA for the new owner and lead.reassigned so every service follows; a status
   * that means accepted records the acceptance exactly as AcceptLead does, which stops the SLA
   * re-route. One write per event; a lead routing never assigned, or an owner routing does not know,
   * changes nothing (logged, and the CRM keeps its own owner).
   */
  async onCrmLeadChanged(event: events.CrmLeadChanged, ctx: EventContext): Promise<void> {
    const doc = await this.store.find(event.leadId);
    if (!doc?.assignment || !doc.ownerId || (await this.store.alreadyApplied(doc, ctx.eventId))) return;
    const directory = await this.owners.current();
    const owner = event.ownerChanged ? ownerForCrmUser(directory.owners, event.crm, event.ownerId, event.crmOwnerId) : undefined;
    if (event.ownerChanged && !owner) this.logger.warn({ leadId: event.leadId, crm: event.crm }, 'CRM owner is no routing owner; the assignment stays');
    const now = new Date();
    const acceptedAt = timestampJson(now);
    const result = await this.store.apply(event.leadId, ctx.eventId, (current) => {
      if (!current?.assignment || !current.ownerId) return null;
      const plan = planCrmChange({ ownerId: current.ownerId, accepted: Boolean(current.acceptedAt) }, { newOwnerId: owner?.id, accepted: event.accepted });
      if (!plan.reassignTo && !plan.accept) return null;
      const set: Record<string, unknown> = {};
      const history: Array<Record<string, unknown>> = [];
      const published = [];
      let assignmentJson = current.assignment;
      let ownerId = current.ownerId;
      if (plan.reassignTo && owner) {
        const due = this.dueAt(now, directory.teams, owner.teamId);
        const previous = directory.owners.find((o) => o.id === current.ownerId)?.name ?? current.ownerId;
        const assignment = create(routing.AssignmentSchema, {
          ...fromJson(routing.AssignmentSchema, current.assignment as JsonValue),
          ownerId: owner.id,
          ownerName: owner.name,
          ownerEmail: owner.email ?? '',
          ownerCrmUserIds: create(lead.CrmUserIdsSchema, { salesforceUserId: owner.crmUserIds?.salesforceUserId ?? '', hubspotOwnerId: owner.crmUserIds?.hubspotOwnerId ?? '' }),
          teamId: owner.teamId,
          ruleId: `crm:${event.crm}`,
          reason: `Reassigned by sales in ${event.crm} from ${previous}.`,
          assignedAt: timestampFromDate(now),
          slaDueAt: due && timestampFromDate(due),
          acceptedAt: undefined,
        });
        assignmentJson = toJson(routing.AssignmentSchema, assignment) as Record<string, unknown>;
        ownerId = owner.id;
        Object.assign(set, { assignment: assignmentJson, ownerId, teamId: owner.teamId, slaDueAt: due ?? null, nextSlaCheckAt: due ?? null, acceptedAt: null });
        history.push({ kind: 'crm-reassigned', ...assignmentJson, crm: event.crm, crmModifiedAt: event.crmModifiedAt && timestampJson(timestampDate(event.crmModifiedAt)) });
        published.push(
          encodeEvent(SUBJECTS.leadReassigned, events.LeadReassignedSchema, {
            eventId: `lead.reassigned:${event.leadId}:${ctx.eventId}`,
            leadId: event.leadId,
            occurredAt: timestampFromDate(now),
            profile: current.profile ? fromJson(lead.LeadProfileSchema, current.profile as JsonValue) : undefined,
            score: current.score ? fromJson(scoring.LeadScoreSchema, current.score as JsonValue) : undefined,
            assignment,
            previousOwnerId: current.ownerId,
          }),
        );
      }
      if (plan.accept) {
        const accepted = acceptance(ownerId, acceptedAt, assignmentJson, 'crm');
        Object.assign(set, accepted.set);
        history.push(accepted.history);
      }
      return { set, append: { history: { values: history, keep: KEEP_HISTORY } }, events: published };
    }, { read: doc });
    if (result === 'applied') this.logger.info({ leadId: event.leadId, crm: event.crm, reassigned: Boolean(owner && owner.id !== doc.ownerId), accepted: event.accepted }, 'CRM change applied to the assignment');
  }

  private dueAt(assignedAt: Date, teams: readonly Team[], teamId: string): Date | undefined {
    const team = teams.find((t) => t.id === teamId);
    return team ? slaDueAt(assignedAt, team, this.sla.overrideSeconds) : undefined;
  }
}
