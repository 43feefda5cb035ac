// Scoring as a process on the real NATS and FerretDB: events in, scores stored and explained,
// lead.scored out, rule sets published, activated and rolled back with a background rescore.
import { randomUUID } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { scoring } from '@leadmesh/contracts';
import { createClient, type NatsClient } from '@leadmesh/platform';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitServing } from '../../../test/harness/health.ts';
import { findTraces } from '../../../test/harness/jaeger.ts';
import { ROOT, grpcAddress, startService, stopService, type RunningService } from '../../../test/harness/stack.ts';
import {
  ScoredEvents,
  connectNats,
  directorProfile,
  eventually,
  logDir,
  publishActivity,
  publishLeadReceived,
  resetNamespace,
} from './support.ts';

const NAMESPACE = 'scoring-stack';
/** The traces whose root is scoring's 'rescore lead' span for this lead. */
const rescoreTraces = (leadId: string) => findTraces('scoring', 'rescore lead', { 'leadmesh.lead_id': leadId });
const OFFSET = 400;
const INITIAL = '2026-11-01.1';
const NEXT = '2026-11-15.1';

let service: RunningService;
let nats: NatsClient;
let scored: ScoredEvents;
const client = createClient(scoring.ScoringService, grpcAddress('scoring', OFFSET), { timeoutMs: 10_000 });

beforeAll(async () => {
  nats = await connectNats(NAMESPACE);
  await resetNamespace(NAMESPACE, nats);
  scored = new ScoredEvents(nats);
  service = startService('scoring', {
    namespace: NAMESPACE,
    portOffset: OFFSET,
    logDir: logDir(NAMESPACE),
    env: {
      SCORING_ACTIVE_RULE_SET: INITIAL,
      SCORING_SETTINGS_REFRESH_MS: '300',
      SCORING_RESCORE_POLL_MS: '200',
      // One lead per batch with a pause, so a handful of leads take long enough to watch progress.
      SCORING_RESCORE_BATCH_SIZE: '1',
      SCORING_RESCORE_PAUSE_MS: '300',
    },
  });
  await waitServing(grpcAddress('scoring', OFFSET), 60_000);
}, 90_000);

afterAll(async () => {
  scored?.close();
  client.close();
  await stopService(service);
  await nats?.close();
});

const storedScore = (leadId: string) => client.getLeadScore({ leadId });

async function scoreWhere(leadId: string, condition: (s: scoring.LeadScore) => boolean, what: string) {
  return eventually(what, async () => {
    const { score, history } = await storedScore(leadId);
    return score && condition(score) ? { score, history } : undefined;
  });
}

async function grpcError(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

const ruleIds = (s: scoring.LeadScore) => s.reasons.map((r) => r.ruleId);

describe('scoring a lead from its events', () => {
  const leadId = randomUUID();
  const activityTimes: Array<{ type: string; occurredAt: Date }> = [];
  let firstScore: scoring.LeadScore;

  it('stores a score for lead.received, naming the active rule set and its reasons', async () => {
    await publishLeadReceived(nats, leadId, directorProfile('received'));
    const { score, history } = await scoreWhere(leadId, () => true, 'first score');
    firstScore = score!;
    expect(firstScore.leadId).toBe(leadId);
    expect(firstScore.ruleSetVersion).toBe(INITIAL);
    expect(firstScore.grade).toMatch(/^A[1-4]$/);
    expect(firstScore.lifecycleStage).toBe(scoring.LifecycleStage.LEAD);
    expect(ruleIds(firstScore)).toEqual(expect.arrayContaining(['fit.seniority.director', 'fit.function.engineering', 'fit.country.western-europe']));
    const fitPoints = firstScore.reasons.filter((r) => r.dimension === scoring.ScoreDimension.FIT).reduce((sum, r) => sum + r.points, 0);
    expect(fitPoints).toBe(firstScore.fitScore);
    expect(history).toEqual([]);
  });

  it('rescores on activity.recorded: the engagement score and its reasons change, the earlier score is history', async () => {
    activityTimes.push({ type: 'PRICING_PAGE_VIEW', occurredAt: new Date(Date.now() - 3 * 86_400_000) });
    await publishActivity(nats, leadId, 'PRICING_PAGE_VIEW', activityTimes[0]!.occurredAt);
    const { score, history } = await scoreWhere(leadId, (s) => s.engagementScore > firstScore.engagementScore, 'engagement to rise');
    expect(ruleIds(score!)).toContain('engagement.activity.pricing-page-view');
    expect(ruleIds(firstScore)).not.toContain('engagement.activity.pricing-page-view');
    expect(score!.fitScore).toBe(firstScore.fitScore);
    expect(history.map((h) => h.engagementScore)).toEqual([firstScore.engagementScore]);
  });

  it('publishes lead.scored with becameMql=true when the lead crosses the MQL threshold, once', async () => {
    activityTimes.push({ type: 'FORM_SUBMITTED', occurredAt: new Date() });
    await publishActivity(nats, leadId, 'FORM_SUBMITTED', activityTimes[1]!.occurredAt);
    const { score, history } = await scoreWhere(leadId, (s) => s.lifecycleStage === scoring.LifecycleStage.MQL, 'the lead to become an MQL');
    const crossing = await eventually('lead.scored with becameMql', async () => scored.forLead(leadId).find((e) => e.becameMql));
    expect(crossing.score?.lifecycleStage).toBe(scoring.LifecycleStage.MQL);
    expect(crossing.score?.grade).toBe(score!.grade);
    // Newest first: the pricing-page score, then the very first one.
    expect(history).toHaveLength(2);
    expect(history[1]!.engagementScore).toBe(firstScore.engagementScore);
    expect(scored.forLead(leadId).filter((e) => e.becameMql)).toHaveLength(1);
    expect(scored.forLead(leadId).slice(0, 2).every((e) => !e.becameMql)).toBe(true);
  });

  it('ScoreLead gives the same score, grade and reasons as the pipeline for the same input', async () => {
    const { score } = await storedScore(leadId);
    const profile = await eventually('the stored profile', async () => scored.forLead(leadId).at(-1)?.profile);
    // The pipeline scored at its own clock: the same moment, profile and activities reproduce it.
    const { score: preview } = await client.scoreLead({
      profile,
      activities: activityTimes.map((a) => ({ type: a.type, occurredAt: timestampFromDate(a.occurredAt) })),
      ruleSetVersion: score!.ruleSetVersion,
      asOf: score!.scoredAt,
    });
    expect(preview!.fitScore).toBe(score!.fitScore);
    expect(preview!.engagementScore).toBe(score!.engagementScore);
    expect(preview!.grade).toBe(score!.grade);
    expect(preview!.lifecycleStage).toBe(score!.lifecycleStage);
    expect(preview!.reasons).toEqual(score!.reasons);
    expect(preview!.ruleSetVersion).toBe(score!.ruleSetVersion);
  });
});

describe('rule sets', () => {
  const shipped = readFileSync(join(ROOT, 'services', 'scoring', 'rules', `${INITIAL}.yaml`), 'utf8');
  const draft = shipped.replace(`version: "${INITIAL}"`, 'version: "2026-12-01.1"');

  it('rejects a bad document as INVALID_ARGUMENT naming the path, and stores nothing', async () => {
    const bad = draft.replace('points: 15, maxPoints: 45', 'points: lots, maxPoints: 45');
    const err = await grpcError(client.publishRuleSet({ document: bad }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain('engagement.activities.PRICING_PAGE_VIEW.points');
    expect(err.metadata.get('field-violation').map(String)).toContainEqual(expect.stringContaining('document.engagement.activities.PRICING_PAGE_VIEW.points'));
    const { ruleSets } = await client.listRuleSets({});
    expect(ruleSets.map((r) => r.version)).toEqual([INITIAL, NEXT]);
  });

  it('rejects YAML that does not parse as INVALID_ARGUMENT on the document', async () => {
    const err = await grpcError(client.publishRuleSet({ document: 'version: [2026' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain('not valid YAML');
  });

  it('publishes a new version, inactive; the same document again is a no-op; other content under it is ALREADY_EXISTS', async () => {
    const { ruleSet } = await client.publishRuleSet({ document: draft });
    expect(ruleSet).toMatchObject({ version: '2026-12-01.1', active: false, document: draft });
    const again = await client.publishRuleSet({ document: draft });
    expect(again.ruleSet?.publishedAt).toEqual(ruleSet?.publishedAt);
    const changed = draft.replace('points: 15, maxPoints: 45', 'points: 16, maxPoints: 45');
    const err = await grpcError(client.publishRuleSet({ document: changed }));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(err.details).toContain('2026-12-01.1');
    const listed = await client.listRuleSets({});
    expect(listed.activeVersion).toBe(INITIAL);
    expect(listed.ruleSets.map((r) => [r.version, r.active])).toEqual([
      [INITIAL, true],
      [NEXT, false],
      ['2026-12-01.1', false],
    ]);
    expect(listed.ruleSets.find((r) => r.version === '2026-12-01.1')?.document).toBe(draft);
  });

  it('activating an unknown version is NOT_FOUND', async () => {
    const err = await grpcError(client.activateRuleSet({ version: '2030-01-01.1' }));
    expect(err.code).toBe(status.NOT_FOUND);
  });
});

describe('activation and rollback', () => {
  // Fit A with one pricing page view: engagement grade 3, an MQL only under 2026-11-15.1 (MQL at 3).
  const borderline = randomUUID();
  const quiet = Array.from({ length: 4 }, () => randomUUID());

  beforeAll(async () => {
    await publishLeadReceived(nats, borderline, directorProfile('borderline'));
    await publishActivity(nats, borderline, 'PRICING_PAGE_VIEW');
    for (const id of quiet) await publishLeadReceived(nats, id, directorProfile('quiet'));
    await scoreWhere(borderline, (s) => s.engagementScore > 0, 'the borderline lead to be scored with its activity');
    for (const id of quiet) await scoreWhere(id, () => true, 'a quiet lead to be scored');
  }, 30_000);

  async function followRescore(job: scoring.RescoreJob): Promise<scoring.RescoreJob[]> {
    const seen: scoring.RescoreJob[] = [job];
    await eventually(
      'the rescore to finish',
      async () => {
        const { rescore } = await client.getRescoreProgress({ jobId: job.jobId });
        seen.push(rescore!);
        return rescore!.finished ? rescore : undefined;
      },
      30_000,
    );
    return seen;
  }

  it(`activating ${NEXT} rescores every stored lead in the background, with progress, without blocking new leads`, async () => {
    const before = (await storedScore(borderline)).score!;
    expect(before.lifecycleStage).toBe(scoring.LifecycleStage.LEAD);

    const { ruleSet, rescore } = await client.activateRuleSet({ version: NEXT });
    expect(ruleSet).toMatchObject({ version: NEXT, active: true });
    expect(rescore).toMatchObject({ ruleSetVersion: NEXT, finished: false, done: 0 });
    expect(rescore!.total).toBeGreaterThanOrEqual(quiet.length + 2);

    // A lead arriving mid-rescore is scored at once, with the new version.
    const newcomer = randomUUID();
    await publishLeadReceived(nats, newcomer, directorProfile('newcomer'));
    const { score: newcomerScore } = await scoreWhere(newcomer, () => true, 'the newcomer to be scored');
    expect(newcomerScore!.ruleSetVersion).toBe(NEXT);
    const midway = await client.getRescoreProgress({ jobId: rescore!.jobId });
    expect(midway.rescore!.finished).toBe(false);

    const seen = await followRescore(rescore!);
    const dones = seen.map((p) => p.done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    expect(seen.some((p) => !p.finished && p.done > 0 && p.done < p.total)).toBe(true);
    const last = seen.at(-1)!;
    expect(last.done).toBe(last.total);
    expect(last.finishedAt).toBeDefined();

    const after = (await storedScore(borderline)).score!;
    expect(after.ruleSetVersion).toBe(NEXT);
    expect(after.lifecycleStage).toBe(scoring.LifecycleStage.MQL);
    expect(after.engagementScore).toBeGreaterThan(before.engagementScore);
    for (const id of quiet) expect((await storedScore(id)).score!.ruleSetVersion).toBe(NEXT);

    const announced = await eventually('lead.scored from the rescore', async () => scored.forLead(borderline).find((e) => e.score?.ruleSetVersion === NEXT));
    expect(announced.becameMql).toBe(true);
    // The rescore of a lead is a trace of its own in Jaeger, found by the lead id, holding the publish of its lead.scored.
    const traced = await eventually('the rescore traced in Jaeger', async () => {
      const found = await rescoreTraces(borderline);
      return found.find((t) => t.spans.some((span) => /^publish .*lead\.scored$/.test(span.operationName)));
    }, 20_000);
    expect(traced.spans.some((span) => span.operationName === 'rescore lead')).toBe(true);
    // A quiet lead's fit, engagement and grade are the same under both versions: nothing to announce.
    for (const id of quiet) expect(scored.forLead(id).filter((e) => e.score?.ruleSetVersion === NEXT)).toHaveLength(0);
    expect((await client.listRuleSets({})).activeVersion).toBe(NEXT);
  }, 90_000);

  it(`activating ${INITIAL} again rolls back: stored leads are rescored with it`, async () => {
    const { rescore } = await client.activateRuleSet({ version: INITIAL });
    await followRescore(rescore!);
    const { score, history } = await storedScore(borderline);
    expect(score!.ruleSetVersion).toBe(INITIAL);
    expect(score!.lifecycleStage).toBe(scoring.LifecycleStage.LEAD);
    expect(history[0]!.ruleSetVersion).toBe(NEXT);
    for (const id of quiet) expect((await storedScore(id)).score!.ruleSetVersion).toBe(INITIAL);
    const back = await eventually('lead.scored from the rollback', async () =>
      scored.forLead(borderline).find((e) => e.score?.ruleSetVersion === INITIAL && e.score.lifecycleStage === scoring.LifecycleStage.LEAD),
    );
    expect(back.becameMql).toBe(false);
    expect((await client.listRuleSets({})).activeVersion).toBe(INITIAL);
  }, 90_000);
});
