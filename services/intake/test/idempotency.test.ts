// Idempotency keys against the real FerretDB, through the use case: a key is scoped to the caller
// and the person, so a form that sends one fixed key for everyone still gets every person's lead.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { intake } from '@leadmesh/contracts';
import { Metrics, createLogger } from '@leadmesh/platform';
import { keptInOutbox, testStore } from '../../../test/harness/store.ts';
import type { ErasureStore } from '../src/erasure.store.js';
import { IntakeService } from '../src/intake.service.js';
import { LeadStore } from '../src/lead.store.js';

const db = testStore('intake-idempotency');
// Publishing is not under test: the submission's event is kept, as if the broker were down.
const leads = new LeadStore(db.store, keptInOutbox);
const service = new IntakeService(leads, {} as ErasureStore, new Metrics('intake-idempotency'), createLogger('intake-idempotency', 'silent'), { erasureHashKey: 'test-erasure-hash-key-of-this-test' });

beforeAll(() => db.start(), 60_000);

afterAll(() => db.stop());

function submission(email: string, idempotencyKey: string) {
  return create(intake.SubmitLeadRequestSchema, { idempotencyKey, contact: { email, lastName: 'Tester' }, source: { formId: 'contact-sales' } });
}

async function submit(request: intake.SubmitLeadRequest, channel: 'grpc' | 'web-form', caller: string) {
  return (await service.submitLead(request, channel, undefined, caller)).response;
}

describe('idempotency keys', () => {
  it('gives two people who submit with the same key two leads', async () => {
    const key = `fixed-hidden-field-${randomUUID()}`;
    const ada = await submit(submission(`ada.${randomUUID()}@example.com`, key), 'web-form', 'form:contact-sales');
    const grace = await submit(submission(`grace.${randomUUID()}@example.com`, key), 'web-form', 'form:contact-sales');
    expect(ada.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
    expect(grace.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
    expect(grace.leadId).not.toBe(ada.leadId);
    expect(await leads.submissions.countDocuments({ leadId: { $in: [ada.leadId, grace.leadId] } })).toBe(2);
  });

  it('does not let one caller replay another caller\'s submission with the same key and email', async () => {
    const key = `shared-${randomUUID()}`;
    const email = `linus.${randomUUID()}@example.com`;
    const first = await submit(submission(email, key), 'grpc', 'team:growth');
    const second = await submit(submission(email, key), 'grpc', 'team:events');
    expect(second.outcome).toBe(intake.SubmissionOutcome.EXISTING_CONTACT);
    expect(second.leadId).toBe(first.leadId);
    expect(second.submissionId).not.toBe(first.submissionId);
  });

  it('replays a retry by the same caller for the same person, whatever the case of the address', async () => {
    const key = `retry-${randomUUID()}`;
    const email = `Barbara.${randomUUID()}@Example.com`;
    const first = await submit(submission(email, key), 'grpc', 'team:growth');
    const retry = await submit(submission(`  ${email.toUpperCase()} `, key), 'grpc', 'team:growth');
    expect(retry).toMatchObject({ outcome: intake.SubmissionOutcome.IDEMPOTENT_REPLAY, leadId: first.leadId, submissionId: first.submissionId });
    expect(await leads.submissions.countDocuments({ leadId: first.leadId })).toBe(1);
  });

  it('keeps the key as the client sent it on the audit record, for tracing a retry', async () => {
    const key = `audit-${randomUUID()}`;
    const result = await submit(submission(`edsger.${randomUUID()}@example.com`, key), 'grpc', 'team:growth');
    expect(await leads.submissions.findById(result.submissionId).lean()).toMatchObject({ idempotencyKey: key });
  });
});
