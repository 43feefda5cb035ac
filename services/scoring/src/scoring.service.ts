import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, lead, scoring } from '@leadmesh/contracts';
import { InvalidArgumentError, Metrics, NotFoundError, encodeEvent, type Change, type EventContext } from '@leadmesh/platform';
import { mqlTransition, scoreLead, toActivityType, type ScoreResult, type ScoringInput } from './domain/engine.js';
import type { RuleSet } from './domain/rule-set.js';
import { scoreChanged } from './domain/score-change.js';
import { RuleSetRegistry } from './rule-set.registry.js';
import { readLeadScore, toLeadScore, toScoreOutcome, toScoringProfile } from './score.mapping.js';
import { ScoreStore, type LeadScoreDoc, type StoredActivity } from './score.store.js';

type LeadScoreInit = MessageInitShape<typeof scoring.LeadScoreSchema>;

/** Why a lead is scored: an event about it (always announced) or a rule-set rescore (announced when the outcome moved). */
type Cause = { eventId: string; announce: 'always' | 'when-changed' };

/** Scoring's use cases: what-if scoring for anyone, and keeping each lead's stored score current. */
@Injectable()
export class ScoringService {
  constructor(
    @Inject(ScoreStore) private readonly store: ScoreStore,
    @Inject(RuleSetRegistry) private readonly ruleSets: RuleSetRegistry,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Pure: the score this profile and activity would get. Stores nothing. */
  async scoreLead(request: scoring.ScoreLeadRequest): Promise<LeadScoreInit> {
    const ruleSet = request.ruleSetVersion ? await this.ruleSets.get(request.ruleSetVersion) : await this.ruleSets.active();
    const activities = request.activities.map((a, i) => {
      const type = toActivityType(a.type);
      if (!type) throw new InvalidArgumentError([{ field: `activities[${i}].type`, description: `unknown activity type "${a.type}"` }], 'ScoreLeadRequest');
      return { type, occurredAt: a.occurredAt ? timestampDate(a.occurredAt) : new Date() };
    });
    const asOf = request.asOf ? timestampDate(request.asOf) : new Date();
    const result = scoreLead({ profile: toScoringProfile(request.profile), activities, asOf }, ruleSet);
    return toLeadScore('', result, asOf);
  }

  /** The stored score and the scores before it, newest first. */
  /** Right to erasure: everything scoring holds about the lead. */
  async forget(leadId: string): Promise<void> {
    await this.store.forget(leadId);
  }

  async getLeadScore(leadId: string): Promise<{ score: scoring.LeadScore; history: scoring.LeadScore[] }> {
    const doc = await this.store.find(leadId);
    if (!doc?.score) throw new NotFoundError(`score for lead ${leadId}`);
    // History is appended with every score, the current one included, so the earlier ones are all but the last.
    const earlier = (doc.history ?? []).slice(0, -1).reverse();
    return { score: readLeadScore(doc.score), history: earlier.map(readLeadScore) };
  }

  async onLeadReceived(event: events.LeadReceived, ctx: EventContext): Promise<void> {
    const profile = toJson(lead.LeadProfileSchema, event.profile ?? create(lead.LeadProfileSchema)) as Record<string, unknown>;
    const ruleSet = await this.ruleSets.active();
    const cause: Cause = { eventId: ctx.eventId, announce: 'always' };
    await this.store.apply(
      event.leadId,
      ctx.eventId,
      (current) => this.rescore(event.leadId, cause, current, profile, current?.activities ?? [], ruleSet),
      // A new person's first submission: scoring has nothing on the lead yet (activity stitched
      // before the form is the exception the insert finds out about).
      { likelyNew: event.newLead },
    );
    this.metrics.leadFinished();
  }

  async onActivityRecorded(event: events.ActivityRecorded, ctx: EventContext): Promise<void> {
    if (!toActivityType(event.activityType)) throw new InvalidArgumentError([{ field: 'activity_type', description: `unknown activity type "${event.activityType}"` }], 'ActivityRecorded');
    const activity: StoredActivity = {
      activityId: event.activityId,
      type: event.activityType,
      occurredAt: event.occurredAt ? timestampDate(event.occurredAt) : new Date(),
    };
    const ruleSet = await this.ruleSets.active();
    const cause: Cause = { eventId: ctx.eventId, announce: 'always' };
    await this.store.apply(event.leadId, ctx.eventId, (current) => {
      const known = current?.activities ?? [];
      const activities = known.some((a) => a.activityId === activity.activityId) ? known : [...known, activity];
      // Activity can arrive before the lead itself; it is kept and counted once the profile is known.
      if (!current?.profile) return { set: { activities }, events: [] };
      return this.rescore(event.leadId, cause, current, current.profile, activities, ruleSet);
    });
  }

  /**
   * Rescores one stored lead with a newly activated rule set, through the same apply-once path as
   * events: the job id is the event id, so a job taken over after a crash never rescores a lead twice.
   */
  async rescoreForJob(leadId: string, jobId: string, ruleSet: RuleSet): Promise<void> {
    const cause: Cause = { eventId: `rescore:${jobId}`, announce: 'when-changed' };
    await this.store.apply(leadId, cause.eventId, (current) => {
      // Already scored with this version (a new event got there first): nothing to redo.
      if (!current?.profile || current.ruleSetVersion === ruleSet.version) return null;
      return this.rescore(leadId, cause, current, current.profile, current.activities ?? [], ruleSet);
    });
  }

  /** Scores the lead with a rule set and prepares lead.scored, MQL crossing included. */
  private rescore(
    leadId: string,
    cause: Cause,
    current: LeadScoreDoc | null,
    profileJson: Record<string, unknown>,
    activities: StoredActivity[],
    ruleSet: RuleSet,
  ): Change {
    const profile = fromJson(lead.LeadProfileSchema, profileJson as JsonValue);
    const now = new Date();
    const input: ScoringInput = {
      profile: toScoringProfile(profile),
      activities: activities.flatMap((a) => {
        const type = toActivityType(a.type);
        return type ? [{ type, occurredAt: new Date(a.occurredAt) }] : [];
      }),
      asOf: now,
    };
    const result = scoreLead(input, ruleSet);
    const previous = current?.lifecycleStage ? ({ lifecycleStage: current.lifecycleStage } as ScoreResult) : undefined;
    const becameMql = mqlTransition(previous, result);
    const score = create(scoring.LeadScoreSchema, toLeadScore(leadId, result, now));
    const scoreJson = toJson(scoring.LeadScoreSchema, score) as Record<string, unknown>;
    const announce = cause.announce === 'always' || scoreChanged(current?.score ? toScoreOutcome(readLeadScore(current.score)) : undefined, result);
    return {
      set: { profile: profileJson, activities, score: scoreJson, lifecycleStage: result.lifecycleStage, ruleSetVersion: result.ruleSetVersion },
      append: { history: { values: [{ ...scoreJson, cause: cause.eventId }], keep: 50 } },
      events: announce
        ? [
            encodeEvent(SUBJECTS.leadScored, events.LeadScoredSchema, {
              eventId: `lead.scored:${leadId}:${cause.eventId}`,
              leadId,
              occurredAt: timestampFromDate(now),
              profile,
              score,
              becameMql,
            }),
          ]
        : [],
    };
  }
}
