import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, lead, routing, scoring } from '@leadmesh/contracts';
import { LOGGER, MongoStore, PeriodicWork, encodeEvent, inBackgroundSpan } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { planSlaReroute, rerouteExclusions, slaDueAt, type SlaState } from './domain/index.js';
import { AssignmentStore, KEEP_HISTORY, type AssignmentDoc } from './assignment.store.js';
import { RouteDecider } from './route-decider.js';
import { toAssignment } from './routing.mapping.js';
import { SLA_SETTINGS, type SlaSettings } from './sla-settings.js';

/**
 * Moves leads nobody accepted within the SLA to the next eligible owner. Runs on every replica; each
 * re-route is claimed in the store first, so exactly one replica performs it.
 */
@Injectable()
export class SlaRerouteService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly work: PeriodicWork<number>;

  constructor(
    @Inject(AssignmentStore) private readonly store: AssignmentStore,
    @Inject(RouteDecider) private readonly decider: RouteDecider,
    @Inject(SLA_SETTINGS) private readonly sla: SlaSettings,
    @Inject(MongoStore) private readonly mongo: MongoStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.work = new PeriodicWork('SLA scan', () => this.scanPass(new Date()), { everyMs: sla.scanIntervalMs, logger });
  }

  onApplicationBootstrap(): void {
    this.work.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.work.stop();
  }

  /** One pass over the leads past their SLA now (or joins the pass under way); returns how many were re-routed. */
  async scan(): Promise<number> {
    return (await this.work.runNow()) ?? 0;
  }

  private async scanPass(now: Date): Promise<number> {
    if (!this.mongo.isConnected) return 0;
    let rerouted = 0;
    for (const doc of await this.store.dueForSlaCheck(now, 100)) {
      try {
        if (await inBackgroundSpan('sla reroute', { 'leadmesh.lead_id': doc._id }, () => this.reroute(doc, now))) rerouted++;
      } catch (err) {
        this.logger.warn({ leadId: doc._id, err: (err as Error).message }, 'SLA re-route failed; retried after the lease');
      }
    }
    return rerouted;
  }

  private async reroute(doc: AssignmentDoc, now: Date): Promise<boolean> {
    if (!doc.ownerId || !doc.slaDueAt || !doc.lead || doc.acceptedAt) return false;
    if (!(await this.store.claimSlaCheck(doc, now, this.sla.leaseMs))) return false; // another replica has it

    const state: SlaState = { ownerId: doc.ownerId, previousOwnerIds: doc.previousOwnerIds ?? [], assignedAt: now, slaDueAt: new Date(doc.slaDueAt) };
    // Only a rule decision takes a round-robin turn, and it never picks an excluded owner, so a
    // decision that comes back to someone who already had the lead (the fallback) claimed nothing.
    const { decision, directory } = await this.decider.decideAndClaim(doc.lead, now, rerouteExclusions(state));
    const plan = planSlaReroute(state, decision.ownerId, now);
    if (!plan.reroute) {
      await this.store.stopSlaChecks(doc._id, doc.ownerId, plan.why);
      this.logger.info({ leadId: doc._id, ownerId: doc.ownerId, why: plan.why }, 'SLA lapsed but the lead stays');
      return false;
    }
    const team = directory.teams.find((t) => t.id === decision.teamId);
    const due = team ? slaDueAt(now, team, this.sla.overrideSeconds) : undefined;
    const previous = directory.owners.find((o) => o.id === doc.ownerId)?.name ?? doc.ownerId;
    const assignment = create(
      routing.AssignmentSchema,
      toAssignment(doc._id, decision, directory.owners, { assignedAt: now, slaDueAt: due }, plan.previousOwnerIds, `SLA re-route: ${previous} did not accept the lead by ${state.slaDueAt.toISOString()}.`),
    );
    const assignmentJson = toJson(routing.AssignmentSchema, assignment) as Record<string, unknown>;
    const reroutes = plan.previousOwnerIds.length;
    const result = await this.store.apply(doc._id, `sla-reroute:${doc._id}:${reroutes}`, (current) =>
      // Accepted or moved since the scan: nothing to do.
      !current || current.ownerId !== doc.ownerId || current.acceptedAt || (current.previousOwnerIds?.length ?? 0) !== state.previousOwnerIds.length
        ? null
        : {
            set: {
              assignment: assignmentJson,
              ownerId: decision.ownerId,
              teamId: decision.teamId,
              slaDueAt: due ?? null,
              nextSlaCheckAt: due ?? null,
              acceptedAt: null,
              previousOwnerIds: plan.previousOwnerIds,
            },
            append: {
              history: {
                values: [{ kind: 'sla-reroute', ...assignmentJson, via: decision.via, ruleSetVersion: decision.ruleSetVersion, candidates: decision.candidates }],
                keep: KEEP_HISTORY,
              },
            },
            events: [
              encodeEvent(SUBJECTS.leadReassigned, events.LeadReassignedSchema, {
                eventId: `lead.reassigned:${doc._id}:${reroutes}`,
                leadId: doc._id,
                occurredAt: timestampFromDate(now),
                profile: doc.profile ? fromJson(lead.LeadProfileSchema, doc.profile as JsonValue) : undefined,
                score: doc.score ? fromJson(scoring.LeadScoreSchema, doc.score as JsonValue) : undefined,
                assignment,
                previousOwnerId: doc.ownerId,
              }),
            ],
          },
    );
    if (result !== 'applied') return false;
    this.decider.countAssignment(decision, now);
    this.logger.info({ leadId: doc._id, from: doc.ownerId, to: decision.ownerId }, 'lead re-routed after its SLA lapsed');
    return true;
  }
}
