// Step records and claims against the real FerretDB: a step handed to two replicas is recorded by
// one; a retry is claimed by one replica per lease period, and a claim whose step update never
// landed (the store went away between the two writes) does not hold the step for ever (found by
// the chaos test that restarts FerretDB mid-stream: a confirmation email stayed DUE for good);
// the sweep finds exactly the leads whose next step has come.
import { randomUUID } from 'node:crypto';
import { testStore } from '../../../test/harness/store.ts';
import { EnrollmentStore } from '../src/enrollment.store.js';
import { StepStore, type NewStep } from '../src/step.store.js';

const db = testStore('nurture-claims');
const steps = new StepStore(db.store, db.outbox);
const leads = new EnrollmentStore(db.store, db.outbox);
const LEASE_MS = 60_000;

function handedStep(leadId = randomUUID(), stepId = 'confirmation', dueAt = new Date(Date.now() - 1000)): NewStep {
  const id = `${leadId}/contact-sales/${stepId}`;
  return { _id: id, leadId, trackId: 'contact-sales', stepId, kind: 'TRANSACTIONAL', template: 'confirmation', subject: 'Thanks', dueAt, status: 'DUE', attempts: 0, messageId: `<${id}@test>` };
}

/** A step that failed once with a temporary error and is due again. */
async function dueAgain(): Promise<NewStep> {
  const step = { ...handedStep(), attempts: 1, lastError: 'SMTP: 451 try later' };
  expect(await steps.record(step)).toBe(true);
  return step;
}

beforeAll(() => db.start(), 60_000);

afterAll(() => db.stop());

describe('recording handed-over steps', () => {
  it('records a step handed to two replicas at once for one of them only', async () => {
    const step = handedStep();
    const sending = (owner: string) => steps.record({ ...step, status: 'SENDING', attempts: 1, leaseOwner: owner, leaseUntil: new Date(Date.now() + LEASE_MS) });
    const results = await Promise.all([sending('replica-a'), sending('replica-b')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await steps.steps.findById(step._id).lean();
    expect(stored).toMatchObject({ status: 'SENDING', leaseOwner: results[0] ? 'replica-a' : 'replica-b', attempts: 1, outbox: [] });
  });

  it('sends a step interrupted mid-send once more, marked possibly duplicated, and settles a second interruption as FAILED', async () => {
    const step = handedStep();
    const now = new Date();
    await steps.record({ ...step, status: 'SENDING', attempts: 1, leaseOwner: 'replica-a', leaseUntil: new Date(now.getTime() - 1) });
    expect((await steps.settleInterrupted(now)).resent).toBeGreaterThanOrEqual(1);
    expect(await steps.steps.findById(step._id).lean()).toMatchObject({ status: 'DUE', possiblyDuplicate: true, dueAt: now, lastError: expect.stringMatching(/outcome unknown/) });

    // The one more send is claimed like any retry, and its replica dies too.
    const retry = await steps.claimRetry({ ...step, status: 'DUE', attempts: 1, dueAt: now }, 'replica-b', now, LEASE_MS);
    expect(retry).toMatchObject({ status: 'SENDING', attempts: 2, possiblyDuplicate: true });
    const later = new Date(now.getTime() + LEASE_MS + 1);
    expect((await steps.settleInterrupted(later)).failed).toBeGreaterThanOrEqual(1);
    expect(await steps.steps.findById(step._id).lean()).toMatchObject({ status: 'FAILED', possiblyDuplicate: true, lastError: expect.stringMatching(/interrupted again/) });
  });
});

describe('claiming retries', () => {
  it('gives a step due again to one replica only, marked SENDING with the attempt counted', async () => {
    const step = await dueAgain();
    const now = new Date();
    const [a, b] = await Promise.all(['replica-a', 'replica-b'].map((owner) => steps.claimRetry(step, owner, now, LEASE_MS)));
    const winners = [a, b].filter((s) => s !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ _id: step._id, status: 'SENDING', attempts: 2 });
  });

  it('claims a retry again in the next lease period when the claim was taken but the step never marked', async () => {
    const step = await dueAgain();
    const now = new Date();
    await expect(steps.claimRetry(step, 'replica-a', now, LEASE_MS)).resolves.toMatchObject({ leaseOwner: 'replica-a' });
    // As if the store had gone away after the claim was recorded and before the step said SENDING.
    await steps.steps.updateOne({ _id: step._id }, { $set: { status: 'DUE', attempts: 1 }, $unset: { leaseOwner: 1, leaseUntil: 1 } });

    expect(await steps.claimRetry(step, 'replica-b', now, LEASE_MS)).toBeNull();
    const later = new Date(now.getTime() + LEASE_MS);
    expect(await steps.claimRetry(step, 'replica-b', later, LEASE_MS)).toMatchObject({ status: 'SENDING', leaseOwner: 'replica-b' });
  });
});

describe('finding leads whose next step has come', () => {
  it('returns leads whose mark has passed, and leaves those waiting for later and those with nothing pending', async () => {
    const now = new Date();
    const due = randomUUID();
    const later = randomUUID();
    const idle = randomUUID();
    await leads.leads.insertMany([
      { _id: due, revision: 1, processedEventIds: [], outbox: [], enrollments: [], emailMarketingConsent: true, nextStepAt: new Date(now.getTime() - 1000), nextStep: 'WAITING' },
      { _id: later, revision: 1, processedEventIds: [], outbox: [], enrollments: [], emailMarketingConsent: true, nextStepAt: new Date(now.getTime() + 60_000), nextStep: 'WAITING' },
      { _id: idle, revision: 1, processedEventIds: [], outbox: [], enrollments: [], emailMarketingConsent: true, nextStepAt: null, nextStep: null },
    ]);
    const found = (await leads.dueLeads(now, 50)).map((l) => l._id);
    expect(found).toContain(due);
    expect(found).not.toContain(later);
    expect(found).not.toContain(idle);
  });
});
