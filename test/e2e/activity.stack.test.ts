// Web activity through intake into the score: an anonymous visitor's activity is stitched to the
// lead when the visitor submits a form, new activity changes the score and its reasons, a retried
// RecordActivity changes nothing, and crossing the threshold makes the lead an MQL.
import { randomBytes } from 'node:crypto';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { intake, scoring } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { waitServing } from '../harness/health.ts';
import { ROOT, allScopes, createStackAuth, grpcAddress, startService, stopService, type RunningService } from '../harness/stack.ts';

const OFFSET = 60;
const NAMESPACE = 'activity';
let services: RunningService[] = [];
const auth = await createStackAuth();
const token = await auth.token(await allScopes(), 'team:web-analytics');
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token, timeoutMs: 10_000 });
const scoringClient = createClient(scoring.ScoringService, grpcAddress('scoring', OFFSET), { token, timeoutMs: 10_000 });

beforeAll(async () => {
  services = (['intake', 'scoring'] as const).map((name) => startService(name, { namespace: NAMESPACE, portOffset: OFFSET, auth, logDir: `${ROOT}/.cache/logs/${NAMESPACE}` }));
  await Promise.all(services.map((s) => waitServing(grpcAddress(s.name, OFFSET), 90_000)));
}, 120_000);

afterAll(async () => {
  intakeClient.close();
  scoringClient.close();
  await Promise.all(services.map((s) => stopService(s)));
});

async function scoreWhen(leadId: string, accept: (s: scoring.LeadScore) => boolean, what: string): Promise<scoring.LeadScore> {
  const deadline = Date.now() + 120_000;
  let last: scoring.LeadScore | undefined;
  while (Date.now() < deadline) {
    last = await scoringClient.getLeadScore({ leadId }).then((r) => r.score).catch(() => undefined);
    if (last && accept(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}; last score ${JSON.stringify(last?.reasons.map((r) => r.ruleId))}`);
}

const engagementRules = (s: scoring.LeadScore) => s.reasons.filter((r) => r.dimension === scoring.ScoreDimension.ENGAGEMENT && r.points > 0).map((r) => r.explanation.toLowerCase());

describe('web activity and the score', () => {
  it('stitches an anonymous visitor to the lead, rescores on activity, ignores a retried activity and publishes the MQL', async () => {
    const visitorId = `v-${randomBytes(6).toString('hex')}`;
    const anonymous = await intakeClient.recordActivity({
      subject: { case: 'visitorId', value: visitorId },
      type: intake.ActivityType.PRICING_PAGE_VIEW,
      url: 'https://www.example.com/pricing',
      occurredAt: timestampFromDate(new Date()),
    });
    expect(anonymous.leadId).toBe('');

    const { leadId } = await intakeClient.submitLead({
      visitorId,
      contact: { email: `visitor.${visitorId}@example-analytics.com`, firstName: 'Vera', lastName: 'Visitor', company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'US', companySize: 900, industry: 'Software' },
      source: { formId: 'pricing-question' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    });

    // The pricing page view from before the form now counts for the lead.
    const stitched = await scoreWhen(leadId, (s) => engagementRules(s).some((e) => e.includes('pricing')), 'the stitched pricing view in the score');
    expect(stitched.engagementScore).toBeGreaterThan(0);

    const activityId = `download-${randomBytes(4).toString('hex')}`;
    const first = await intakeClient.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.CONTENT_DOWNLOAD, activityId, url: 'https://www.example.com/whitepaper' });
    expect(first.leadId).toBe(leadId);
    const afterDownload = await scoreWhen(leadId, (s) => s.engagementScore > stitched.engagementScore, 'a higher engagement score after the download');
    expect(engagementRules(afterDownload).some((e) => e.includes('download'))).toBe(true);

    // The same activity again (a client retry) changes nothing.
    await intakeClient.recordActivity({ subject: { case: 'leadId', value: leadId }, type: intake.ActivityType.CONTENT_DOWNLOAD, activityId, url: 'https://www.example.com/whitepaper' });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await scoringClient.getLeadScore({ leadId })).score?.engagementScore).toBe(afterDownload.engagementScore);

    // Enough engagement makes a strong fit an MQL.
    for (const type of [intake.ActivityType.WEBINAR_ATTENDED, intake.ActivityType.PRICING_PAGE_VIEW, intake.ActivityType.EMAIL_CLICKED]) {
      await intakeClient.recordActivity({ subject: { case: 'leadId', value: leadId }, type });
    }
    const mql = await scoreWhen(leadId, (s) => s.lifecycleStage === scoring.LifecycleStage.MQL, 'the lead to become an MQL');
    expect(mql.grade).toMatch(/^[AB][12]$/);
    const { history } = await scoringClient.getLeadScore({ leadId });
    expect(history.some((h) => h.lifecycleStage === scoring.LifecycleStage.LEAD)).toBe(true);
  }, 300_000);

  it('rejects an unknown lead and a missing activity type, naming the field', async () => {
    await expect(intakeClient.recordActivity({ subject: { case: 'leadId', value: '00000000-0000-4000-8000-000000000000' }, type: intake.ActivityType.PAGE_VIEW })).rejects.toMatchObject({ code: 5 });
    await expect(intakeClient.recordActivity({ subject: { case: 'visitorId', value: 'v-1' } })).rejects.toMatchObject({ code: 3, details: expect.stringContaining('type') });
  });
});
