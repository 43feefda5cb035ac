import { Inject, Injectable } from '@nestjs/common';
import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, lead, scoring } from '@leadmesh/contracts';
import { InvalidArgumentError, Metrics, NotFoundError, encodeEvent, type Change, type EventContext } from '@leadmesh/platform';
import { mqlTransition, scoreLead, toActivityType, type ScoreResult, type ScoringInput } from './domain/engine.js';
import { RuleSetRegistry } from './rule-set.registry.js';
import { toLeadScore, toScoringProfile } from './score.mapping.js';
import { ScoreStore, type LeadScoreDoc, type StoredActivity } from './score.store.js';

type LeadScoreInit = MessageInitShape<typeof scoring.LeadScoreSchema>;

/** Scoring's use cases: what-if scoring for anyone, and keeping each lead's stored score current. */
@Injectable()
export class ScoringService {
  constructor(
    @Inject(ScoreStore) private readonly store: ScoreStore,
    @Inject(RuleSetRegistry) private readonly ruleSets: RuleSetRegistry,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Pure: the score this profile and activity would get. Stores nothing. */
  scoreLead(request: scoring.ScoreLeadRequest): LeadScoreInit {
    const ruleSet = request.ruleSetVersion ? this.ruleSets.get(request.ruleSetVersion) : this.ruleSets.active();
    const activities = request.activities.map((a, i) => {
      const type = toActivityType(a.type);
      if (!type) throw new InvalidArgumentError([{ field: `activities[${i}].type`, description: `unknown activity type "${a.type}"` }], 'ScoreLeadRequest');
      return { type, occurredAt: a.occurredAt ? timestampDate(a.occurredAt) : new Date() };
    });
    const asOf = request.asOf ? timestampDate(request.asOf) : new Date();
    const result = scoreLead({ profile: toScoringProfile(request.profile), activities, asOf }, ruleSet);
    return toLeadScore('', result, asOf);
  }

  async getLeadScore(leadId: string): Promise<scoring.LeadScore> {
    const doc = await this.store.find(leadId);
    if (!doc?.score) throw new NotFoundError(`score for lead ${leadId}`);
    return fromJson(scoring.LeadScoreSchema, doc.score as JsonValue);
  }

  async onLeadReceived(event: events.LeadReceived, ctx: EventContext): Promise<void> {
    const profile = toJson(lead.LeadProfileSchema, event.profile ?? create(lead.LeadProfileSchema)) as Record<string, unknown>;
    await this.store.apply(event.leadId, ctx.eventId, (current) =>
      this.rescore(event.leadId, ctx.eventId, current, profile, current?.activities ?? []),
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
    await this.store.apply(event.leadId, ctx.eventId, (current) => {
      const known = current?.activities ?? [];
      const activities = known.some((a) => a.activityId === activity.activityId) ? known : [...known, activity];
      // Activity can arrive before the lead itself; it is kept and counted once the profile is known.
      if (!current?.profile) return { set: { activities }, events: [] };
      return this.rescore(event.leadId, ctx.eventId, current, current.profile, activities);
    });
  }

  /** Scores the lead with the active rule set and prepares lead.scored, MQL crossing included. */
  private rescore(leadId: string, causeId: string, current: LeadScoreDoc | null, profileJson: Record<string, unknown>, activities: StoredActivity[]): Change {
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
    const result = scoreLead(input, this.ruleSets.active());
    const previous = current?.lifecycleStage ? ({ lifecycleStage: current.lifecycleStage } as ScoreResult) : undefined;
    const becameMql = mqlTransition(previous, result);
    const score = create(scoring.LeadScoreSchema, toLeadScore(leadId, result, now));
    const scoreJson = toJson(scoring.LeadScoreSchema, score) as Record<string, unknown>;
    return {
      set: { profile: profileJson, activities, score: scoreJson, lifecycleStage: result.lifecycleStage, ruleSetVersion: result.ruleSetVersion },
      append: { history: { values: [{ ...scoreJson, cause: causeId }], keep: 50 } },
      events: [
        encodeEvent(SUBJECTS.leadScored, events.LeadScoredSchema, {
          eventId: `lead.scored:${leadId}:${causeId}`,
          leadId,
          occurredAt: timestampFromDate(now),
          profile,
          score,
          becameMql,
        }),
      ],
    };
  }
}
