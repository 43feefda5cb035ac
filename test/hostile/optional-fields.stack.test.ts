// Values a person types or a localised form sends in optional fields, at intake's HTTP door: a
// country in German, a region, a company size range, a relative page URL, an over-long job title,
// an unreadable consent. None of them costs the lead: it is stored (201), the fields it could not
// read are named in `notices` and left empty, and the values as sent stay on the raw submission.
import { intake } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { MongoClient } from 'mongodb';
import { SHARED_MONGO, databaseName } from '../chaos/support.ts';
import { startIntake, type HostileIntake } from './support.ts';

const NAMESPACE = 'hostile-optional';
const OFFSET = 920;
let door: HostileIntake | undefined;
let mongo: MongoClient | undefined;

beforeAll(async () => {
  door = await startIntake(NAMESPACE, OFFSET);
  mongo = await new MongoClient(SHARED_MONGO).connect();
}, 180_000);

afterAll(async () => {
  await mongo?.close();
  await door?.stop();
}, 60_000);

const intakeDb = () => mongo!.db(databaseName(NAMESPACE, 'intake'));

async function post(body: string, contentType: string) {
  const res = await fetch(`${door!.http}/v1/leads`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: (await res.json()) as { leadId?: string; submissionId?: string; notices?: { field: string }[]; violations?: { field: string }[] } };
}

describe("intake's HTTP door keeps a lead whatever its optional fields hold", () => {
  it('normalises a country named in German on a urlencoded form', async () => {
    const answer = await post('email=dana%40example-software.de&last_name=Tester&country=Deutschland', 'application/x-www-form-urlencoded');
    expect(answer.status).toBe(201);
    expect(answer.body.notices).toEqual([]);
    const contact = await intakeDb().collection('contacts').findOne({ _id: answer.body.leadId as never });
    expect(contact?.profile).toMatchObject({ contact: { country: 'DE' } });
  }, 30_000);

  it('keeps a lead with unreadable optional fields, flags each by name and keeps the values as sent', async () => {
    const body = {
      contact: { email: 'ulrich@example-maschinenbau.de', lastName: 'Tester', country: 'Bavaria', companySize: '51-200', jobTitle: 'x'.repeat(300) },
      source: { formId: 'contact-sales', pageUrl: '/de/kontakt' },
      consent: { emailMarketing: 'vielleicht', givenAt: 'gestern' },
    };
    const answer = await post(JSON.stringify(body), 'application/json');
    expect(answer.status).toBe(201);
    expect(answer.body.notices?.map((n) => n.field).sort()).toEqual(
      ['consent.email_marketing', 'consent.given_at', 'contact.company_size', 'contact.country', 'contact.job_title', 'source.page_url'].sort(),
    );
    const contact = await intakeDb().collection('contacts').findOne({ _id: answer.body.leadId as never });
    expect(contact?.profile).toMatchObject({ contact: { email: 'ulrich@example-maschinenbau.de', lastName: 'Tester' } });
    expect(contact?.profile.contact.country ?? '').toBe('');
    expect(contact?.profile.contact.jobTitle ?? '').toBe('');
    expect(contact?.profile.consent?.emailMarketing ?? false).toBe(false);
    const submission = await intakeDb().collection('submissions').findOne({ _id: answer.body.submissionId as never });
    expect(JSON.parse(submission!.raw as string)).toEqual(body);
    expect(submission!.notices).toHaveLength(6);
  }, 30_000);

  it('names the optional fields it set aside in the gRPC answer too, and keeps the lead', async () => {
    const client = createClient(intake.IntakeService, door!.grpc, { timeoutMs: 10_000 });
    try {
      const answer = await client.submitLead({
        contact: { email: 'lotte@example-logistik.de', lastName: 'Tester', country: 'Oberbayern', companySize: 0, company: 'Logistik GmbH' },
        source: { formId: 'contact-sales' },
        idempotencyKey: `grpc-notices-${Date.now()}`,
      });
      expect(answer.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
      expect(answer.notices.map((n) => n.field)).toEqual(['contact.country']);
      expect(answer.notices[0]!.description).toMatch(/country/);
      const contact = await intakeDb().collection('contacts').findOne({ _id: answer.leadId as never });
      expect(contact?.profile).toMatchObject({ contact: { email: 'lotte@example-logistik.de', company: 'Logistik GmbH' } });
    } finally {
      client.close();
    }
  }, 30_000);

  it('still refuses a submission without a usable email, naming the field', async () => {
    const answer = await post(JSON.stringify({ contact: { email: 'not-an-address', country: 'Bavaria' } }), 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.body.violations?.map((v) => v.field)).toEqual(['contact.email']);
  }, 30_000);
});
