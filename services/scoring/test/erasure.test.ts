// Every write path of scoring against an erased lead, on the real FerretDB: a late event, a replayed
// submission and a rule-set rescore find the tombstone and write nothing, also when they run at the
// same moment as the erasure. Scoring's writes all go through the platform's applyEventOnce, whose
// compare-and-set on the revision the tombstone takes is what closes the race; this test holds it.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { events } from '@leadmesh/contracts';
import { Metrics, type EventContext } from '@leadmesh/platform';
import { keptInOutbox, testStore } from '../../../test/harness/store.ts';
import { defaultRulesDir, loadRuleSetFiles } from '../src/rules/rule-set-files.js';
import type { RuleSetRegistry } from '../src/rule-set.registry.js';
import { ScoreStore } from '../src/score.store.js';
import { ScoringService } from '../src/scoring.service.js';

const db = testStore('scoring-erasure');
const [older, newer] = loadRuleSetFiles(defaultRulesDir());
let store: ScoreStore;
let scoring: ScoringService;

beforeAll(async () => {
  await db.start();
  store = new ScoreStore(db.store, keptInOutbox);
  const ruleSets = { active: async () => older } as unknown as RuleSetRegistry;
  scoring = new ScoringService(store, ruleSets, new Metrics(`scoring-erasure-${randomUUID()}`));
}, 60_000);

afterAll(() => db.stop());

const ctx = (eventId: string): EventContext => ({ subject: 'leadmesh.test', eventId, deliveryCount: 1, streamSequence: 1 });

function received(leadId: string) {
  return create(events.LeadReceivedSchema, {
    eventId: `lead.received:${leadId}`,
    leadId,
    occurredAt: timestampFromDate(new Date()),
    submissionId: randomUUID(),
    newLead: true,
    profile: { contact: { email: `erin.${leadId.slice(0, 8)}@example-erasure.com`, firstName: 'Erin', lastName: 'Erased', company: 'Forget Me GmbH', jobTitle: 'VP Marketing' }, source: { formId: 'contact-sales' } },
  });
}

const activity = (leadId: string) =>
  create(events.ActivityRecordedSchema, { eventId: `activity:${randomUUID()}`, leadId, activityId: randomUUID(), activityType: 'PRICING_PAGE_VIEW', occurredAt: timestampFromDate(new Date()) });

/** The lead's document holds nothing but the tombstone's bookkeeping. */
async function expectTombstone(leadId: string): Promise<void> {
  const doc = (await store.find(leadId)) as Record<string, unknown> | null;
  expect(doc).toMatchObject({ erasedAt: expect.any(Date), outbox: [] });
  for (const field of ['profile', 'score', 'lifecycleStage', 'ruleSetVersion']) expect(doc?.[field]).toBeUndefined();
  // The schema's defaults may give the tombstone empty lists; never a value.
  for (const field of ['activities', 'history']) expect(doc?.[field] ?? []).toEqual([]);
}

describe('scoring after an erasure', () => {
  it('a late activity, a replayed submission and a rescore find the tombstone and write nothing; the rescore job does not even list the lead', async () => {
    expect(older && newer && older.version !== newer.version).toBeTruthy();
    const leadId = randomUUID();
    const event = received(leadId);
    await scoring.onLeadReceived(event, ctx(event.eventId));
    expect(await store.scorableIdsAfter(undefined, 10_000)).toContain(leadId);

    await scoring.forget(leadId);
    const late = activity(leadId);
    await scoring.onActivityRecorded(late, ctx(late.eventId));
    await scoring.onLeadReceived(event, ctx(`replay:${event.eventId}`));
    await scoring.rescoreForJob(leadId, randomUUID(), newer!);

    await expectTombstone(leadId);
    expect(await store.scorableIdsAfter(undefined, 10_000)).not.toContain(leadId);
  });

  it('events and a rescore running at the same moment as the erasure leave the tombstone in place', async () => {
    const leadIds = Array.from({ length: 6 }, () => randomUUID());
    for (const leadId of leadIds) {
      const event = received(leadId);
      await scoring.onLeadReceived(event, ctx(event.eventId));
    }
    await Promise.all(
      leadIds.flatMap((leadId) => {
        const late = activity(leadId);
        return [scoring.forget(leadId), scoring.onActivityRecorded(late, ctx(late.eventId)), scoring.rescoreForJob(leadId, randomUUID(), newer!)];
      }),
    );
    for (const leadId of leadIds) await expectTombstone(leadId);
  });
});
