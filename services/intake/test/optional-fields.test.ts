// An optional field never costs a lead, through the use case against the real FerretDB: a country
// in another language is normalised, one no data set names is kept as typed on the raw submission,
// left empty on the profile and flagged by field.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { intake } from '@leadmesh/contracts';
import { Metrics, createLogger } from '@leadmesh/platform';
import { keptInOutbox, testStore } from '../../../test/harness/store.ts';
import type { ErasureStore } from '../src/erasure.store.js';
import { IntakeService } from '../src/intake.service.js';
import { LeadStore } from '../src/lead.store.js';

const db = testStore('intake-optional-fields');
// Publishing is not under test: the submission's event is kept, as if the broker were down.
const leads = new LeadStore(db.store, keptInOutbox);
const service = new IntakeService(leads, {} as ErasureStore, new Metrics('intake-optional-fields'), createLogger('intake-optional-fields', 'silent'), { erasureHashKey: 'test-erasure-hash-key-of-this-test' });

beforeAll(() => db.start(), 60_000);

afterAll(() => db.stop());

const withCountry = (country: string) =>
  create(intake.SubmitLeadRequestSchema, { contact: { email: `dana.${randomUUID()}@example-software.de`, lastName: 'Tester', country }, source: { formId: 'contact-sales' } });

describe('the country of a submission', () => {
  it.each([
    ['Deutschland', 'DE'],
    ['Österreich', 'AT'],
    ['Royaume-Uni', 'GB'],
    ['日本', 'JP'],
  ])('normalises %j, a name in another language, to %s', async (country, code) => {
    const { response, notices } = await service.submitLead(withCountry(country), 'grpc', undefined, 'team:growth');
    expect(response.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
    expect(notices).toEqual([]);
    expect((await service.getLead(response.leadId!)).profile?.contact?.country).toBe(code);
  });

  it('keeps a lead whose country no data set names: raw value kept, profile left empty, the field flagged', async () => {
    const { response, notices } = await service.submitLead(withCountry('Bavaria'), 'grpc', undefined, 'team:growth');
    expect(response.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
    expect(notices).toEqual([{ field: 'contact.country', description: expect.any(String) }]);
    expect((await service.getLead(response.leadId!)).profile?.contact?.country).toBe('');
    const stored = await leads.submissions.findById(response.submissionId).lean();
    expect(JSON.parse(stored!.raw)).toMatchObject({ contact: { country: 'Bavaria' } });
    expect(stored!.notices).toEqual([{ field: 'contact.country', description: expect.any(String) }]);
    expect(JSON.stringify(stored!.notices)).not.toContain('Bavaria');
  });
});
