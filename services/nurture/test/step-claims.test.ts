// Claims on due steps against the real FerretDB: one claim per step and lease period, and a claim
// whose step update never landed (the store went away between the two writes) does not hold the
// step for ever. Found by the chaos test that restarts FerretDB mid-stream: a confirmation email
// stayed DUE for good.
import { randomUUID } from 'node:crypto';
import { testStore } from '../../../test/harness/store.ts';
import { StepStore } from '../src/step.store.js';

const db = testStore('nurture-claims');
const steps = new StepStore(db.store, db.outbox);
const LEASE_MS = 60_000;

async function dueStep(leadId = randomUUID(), stepId = 'confirmation', dueAt = new Date(Date.now() - 1000)): Promise<string> {
  const id = `${leadId}/contact-sales/${stepId}`;
  await steps.steps.create({
    _id: id,
    leadId,
    trackId: 'contact-sales',
    stepId,
    kind: 'TRANSACTIONAL',
    template: 'confirmation',
    subject: 'Thanks',
    dueAt,
    status: 'DUE',
    messageId: `<${id}@test>`,
  });
  return id;
}

beforeAll(() => db.start(), 60_000);

afterAll(() => db.stop());

describe('claiming due steps', () => {
  it('gives a due step to one replica only', async () => {
    const id = await dueStep();
    const now = new Date();
    const [a, b] = await Promise.all([steps.claimDue('replica-a', now, LEASE_MS, 50), steps.claimDue('replica-b', now, LEASE_MS, 50)]);
    const winners = [...a, ...b].filter((s) => s._id === id);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.status).toBe('CLAIMED');
  });

  it('claims a step again in the next lease period when the claim was taken but the step never marked', async () => {
    const id = await dueStep();
    const now = new Date();
    expect((await steps.claimDue('replica-a', now, LEASE_MS, 50)).map((s) => s._id)).toContain(id);
    // As if the store had gone away after the claim was recorded and before the step said CLAIMED.
    await steps.steps.updateOne({ _id: id }, { $set: { status: 'DUE' }, $unset: { leaseOwner: 1, leaseUntil: 1 } });

    expect((await steps.claimDue('replica-b', now, LEASE_MS, 50)).map((s) => s._id)).not.toContain(id);
    const later = new Date(now.getTime() + LEASE_MS);
    const retaken = (await steps.claimDue('replica-b', later, LEASE_MS, 50)).find((s) => s._id === id);
    expect(retaken).toMatchObject({ status: 'CLAIMED', leaseOwner: 'replica-b' });
  });

  it("claims one lead's due steps for that lead's pass, and leaves its later steps and other leads' steps", async () => {
    const leadId = randomUUID();
    const now = new Date();
    const confirmation = await dueStep(leadId);
    const dayThree = await dueStep(leadId, 'day-3', new Date(now.getTime() + 3 * 86_400_000));
    const otherLead = await dueStep();

    const claimed = await steps.claimDue('replica-a', now, LEASE_MS, 50, leadId);
    expect(claimed.map((s) => s._id)).toEqual([confirmation]);
    const untouched = await steps.steps.find({ _id: { $in: [dayThree, otherLead] } }).lean();
    expect(untouched.map((s) => s.status)).toEqual(['DUE', 'DUE']);
  });

  it('takes over, in the sweep, a claim whose lease ran out before anything was sent', async () => {
    const id = await dueStep();
    const now = new Date();
    expect((await steps.claimDue('replica-a', now, LEASE_MS, 50)).map((s) => s._id)).toContain(id);
    const afterLease = new Date(now.getTime() + LEASE_MS + 1);
    const taken = (await steps.claimDue('replica-b', afterLease, LEASE_MS, 50)).find((s) => s._id === id);
    expect(taken).toMatchObject({ status: 'CLAIMED', leaseOwner: 'replica-b' });
  });
});
