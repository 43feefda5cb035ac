// Nurture on the real NATS, FerretDB and Mailpit: the Contact Sales confirmation, the unsubscribe
// link, suppression and the exit from marketing when a lead is routed to sales. One track day
// lasts DAY_MS here (NURTURE_DELAY_SCALE), so "day 7" comes within seconds.
import { nurture } from '@leadmesh/contracts';
import { stopService, type RunningService } from '../../../test/harness/stack.ts';
import { DAY_MS, eventually, leadReceived, leadRouted, leadScored, mailDetail, mailHeaders, mailTo, nurtureStack, sleep, testLead, type NurtureStack } from './support.ts';

let stack: NurtureStack;
let service: RunningService;

beforeAll(async () => {
  stack = await nurtureStack('nurture-email', 200);
  service = await stack.start();
  // Warm-up: the first event waits for the store's indexes and connections; the latency asserted
  // below is the steady state a submission sees.
  const warmUp = testLead('warmup', { formId: 'contact-sales' });
  await stack.publish(leadReceived(warmUp));
  await eventually('the warm-up confirmation', async () => ((await mailTo(warmUp.email)).length > 0 ? true : undefined), 90_000);
}, 180_000);

afterAll(async () => {
  if (service) await stopService(service);
  await stack?.close();
});

const enrollments = (leadId: string) => stack.client.getEnrollments({ leadId });
const enrollmentIn = async (leadId: string, trackId: string) => (await enrollments(leadId)).enrollments.find((e) => e.trackId === trackId);

describe('nurture email', () => {
  it('sends the Contact Sales confirmation within seconds, without marketing consent, with a working unsubscribe link', async () => {
    const lead = testLead('confirm', { firstName: 'Ada', product: 'Analytics', formId: 'contact-sales', consent: false });
    const published = Date.now();
    await stack.publish(leadReceived(lead));

    const [mail] = await eventually('the confirmation in Mailpit', async () => ((await mailTo(lead.email)).length > 0 ? mailTo(lead.email) : undefined), 30_000);
    // Within seconds, on a shared and busy test machine.
    expect(Date.now() - published).toBeLessThan(10_000);
    const detail = await mailDetail(mail!.ID);
    expect(detail.Subject).toBe('We received your request, Ada');
    expect(detail.Text).toContain('Hello Ada');
    expect(detail.Text).toContain('about Analytics');
    expect(detail.HTML).toContain('about Analytics');

    const headers = await mailHeaders(mail!.ID);
    const listUnsubscribe = headers['List-Unsubscribe']?.[0] ?? '';
    const link = /^<(.+)>$/.exec(listUnsubscribe)?.[1];
    expect(link).toMatch(new RegExp(`^${stack.httpUrl}/v1/unsubscribe\\?token=`));
    expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    // The same link is in the body, where a person can see it.
    expect(detail.Text).toContain(link);

    const step = (await enrollmentIn(lead.leadId, 'contact-sales-confirmation'))?.steps[0];
    expect(step?.status).toBe(nurture.StepStatus.SENT);
    expect(`<${mail!.MessageID}>`).toMatch(/^<[0-9a-f]{32}\.nurture@leadmesh\.example>$/);

    const before = await enrollments(lead.leadId);
    expect(before.suppressed).toBe(true); // no marketing consent on record
    expect(before.suppressionReason).toMatch(/consent/i);

    // Opening the link (as a person, or a scanner that fetches every URL) only asks to confirm.
    const opened = await fetch(link!);
    expect(opened.status).toBe(200);
    const page = await opened.text();
    expect(page).toContain('Unsubscribe from our emails?');
    expect((await enrollments(lead.leadId)).suppressionReason).toMatch(/consent/i);
    // The page's button POSTs back to the link.
    const action = /<form method="post" action="([^"]+)">/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    const confirmed = await fetch(new URL(action!, link!), { method: 'POST', headers: { accept: 'text/html' } });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('You are unsubscribed');
    const after = await enrollments(lead.leadId);
    expect(after.suppressionReason).toMatch(/unsubscribed/i);

    // An altered token does nothing.
    const forged = await fetch(`${link!.slice(0, -3)}AAA`, { method: 'POST' });
    expect(forged.status).toBe(400);
  }, 150_000);

  it('never sends marketing email to a lead without marketing consent', async () => {
    const lead = testLead('noconsent', { consent: false });
    await stack.publish(leadScored(lead));
    const enrollment = await eventually(
      'every step of the marketing track settled',
      async () => {
        const e = await enrollmentIn(lead.leadId, 'marketing-nurture-general');
        return e && e.steps.length === 3 && e.steps.every((s) => s.status === nurture.StepStatus.SKIPPED) ? e : undefined;
      },
      7 * DAY_MS + 60_000,
    );
    expect(enrollment.steps.map((s) => s.lastError)).toEqual(Array(3).fill(expect.stringMatching(/no email marketing consent/i)));
    expect(await mailTo(lead.email)).toHaveLength(0);
  }, 150_000);

  it('sends nothing further after an unsubscribe (one-click POST from the List-Unsubscribe header)', async () => {
    const lead = testLead('unsub');
    await stack.publish(leadScored(lead));
    const [welcome] = await eventually('the day-0 welcome', async () => ((await mailTo(lead.email)).length > 0 ? mailTo(lead.email) : undefined));
    expect(welcome!.Subject).toBe('Getting started at Example Analytics');

    const link = /^<(.+)>$/.exec((await mailHeaders(welcome!.ID))['List-Unsubscribe']?.[0] ?? '')?.[1];
    const oneClick = await fetch(link!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    // Unsubscribing again (the RPC this time) is harmless and keeps the first time.
    const again = await stack.client.unsubscribe({ subject: { case: 'leadId', value: lead.leadId } });
    expect(again.leadId).toBe(lead.leadId);

    await sleep(7 * DAY_MS + 1_500);
    expect(await mailTo(lead.email)).toHaveLength(1);
    const e = await enrollmentIn(lead.leadId, 'marketing-nurture-general');
    expect(e?.status).toBe(nurture.EnrollmentStatus.EXITED);
    expect(e?.exitReason).toMatch(/unsubscribed/);
    expect(e?.steps.map((s) => s.status)).toEqual([nurture.StepStatus.SENT, nurture.StepStatus.SKIPPED, nurture.StepStatus.SKIPPED]);
  }, 150_000);

  it('takes a lead routed to sales out of marketing nurture and into sales assist', async () => {
    const lead = testLead('routed', { firstName: 'Alan' });
    await stack.publish(leadScored(lead));
    await eventually('the day-0 welcome', async () => ((await mailTo(lead.email)).length === 1 ? true : undefined));
    await stack.publish(leadRouted(lead, 'Grace Hopper'));

    // Sales assist's first step is due one hour (a 24th of a test day) after routing.
    const intro = await eventually('the owner introduction', async () => (await mailTo(lead.email)).find((m) => m.Subject === 'Grace Hopper will be in touch'));
    expect((await mailDetail(intro.ID)).Text).toContain('Grace Hopper looks after Example Analytics');

    const marketing = await enrollmentIn(lead.leadId, 'marketing-nurture-general');
    expect(marketing?.status).toBe(nurture.EnrollmentStatus.EXITED);
    expect(marketing?.exitReason).toMatch(/routed to sales/);
    expect(marketing?.steps.slice(1).map((s) => [s.status, s.lastError])).toEqual([
      [nurture.StepStatus.SKIPPED, expect.stringMatching(/routed to sales/)],
      [nurture.StepStatus.SKIPPED, expect.stringMatching(/routed to sales/)],
    ]);
    const salesAssist = await enrollmentIn(lead.leadId, 'sales-assist-owner-intro');
    expect(salesAssist?.reason).toMatch(/routed to sales/);

    // The day-3 and day-7 marketing emails never come.
    await sleep(7 * DAY_MS + 500);
    const subjects = (await mailTo(lead.email)).map((m) => m.Subject).sort();
    expect(subjects).toEqual(['A good time to talk, Alan?', 'Getting started at Example Analytics', 'Grace Hopper will be in touch'].sort());
  }, 150_000);
});
