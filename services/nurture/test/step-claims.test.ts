// Claims on due steps against the real FerretDB: one claim per step and lease period, and a claim
// whose step update never landed (the store went away between the two writes) does not hold the
// step for ever. Found by the chaos test that restarts FerretDB mid-stream: a confirmation email
// stayed DUE for good.
import { randomUUID } from 'node:crypto';
import { EventPublisher, Metrics, MongoStore, NatsClient, Outbox, createLogger, topology } from '@leadmesh/platform';
import { StepStore } from '../src/step.store.js';

const namespace = `nurture-claims-${randomUUID().slice(0, 8)}`;
const logger = createLogger('nurture-claims-test', 'silent');
const nats = new NatsClient('nats://127.0.0.1:4222', 'nurture-claims-test', logger, topology(namespace));
const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_${namespace.replace(/-/g, '_')}`, logger);
const steps = new StepStore(store, new Outbox(new EventPublisher(nats), nats, new Metrics('nurture-claims-test'), logger));
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

beforeAll(async () => {
  store.start();
  await store.ready();
}, 60_000);

afterAll(async () => {
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
});

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
