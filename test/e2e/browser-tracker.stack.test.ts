// The browser tracker in a real browser (Debian's chromium through playwright-core) on the demo
// website, against the five services on the real NATS and FerretDB: nothing is sent or stored
// before consent (nor ever with Global Privacy Control on); after consent the pricing-page visits
// are recorded and change the personalization answer; the Contact Sales form yields a lead whose
// journey shows the earlier visits and whose engagement score counts them; a page on an origin the
// site key is not bound to is refused, and a headless crawler's beacons are dropped.
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page, Request as PwRequest } from 'playwright-core';
import { intake, scoring } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { startDemoSite, type DemoSite } from '../../examples/demo-site/server.ts';
import { startCrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { launchBrowser } from '../harness/browser.ts';
import { eventually } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { ROOT, SERVICES, allScopes, createStackAuth, grpcAddress, httpUrl, startStack, stopStack, type RunningService } from '../harness/stack.ts';

const OFFSET = 700;
const NAMESPACE = 'browser-tracker';
const SITE_KEY = 'pk_demo_site_browser_test';
const SITE_PORT = 8081 + OFFSET;
const SITE = `http://127.0.0.1:${SITE_PORT}`;
// The same pages on an origin the site key is not bound to.
const FOREIGN_SITE = `http://localhost:${SITE_PORT}`;
const INTAKE_HTTP = httpUrl('intake', OFFSET);
// Headless chromium says "HeadlessChrome", which isbot rightly takes for a crawler: the visitor in
// these tests presents the user agent of the same chromium with a window.
const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let services: RunningService[] = [];
let simulator: Awaited<ReturnType<typeof startCrmSimulator>>;
let site: DemoSite;
let browser: Browser;
const auth = await createStackAuth();
const token = await auth.token(await allScopes(), 'team:web-analytics');
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token, timeoutMs: 10_000 });
const scoringClient = createClient(scoring.ScoringService, grpcAddress('scoring', OFFSET), { token, timeoutMs: 10_000 });

beforeAll(async () => {
  simulator = await startCrmSimulator({ port: 8090 + OFFSET, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  services = startStack({
    namespace: NAMESPACE,
    portOffset: OFFSET,
    auth,
    logDir: `${ROOT}/.cache/logs/${NAMESPACE}`,
    env: {
      TRACKER_SITE_KEYS: JSON.stringify({ [SITE_KEY]: [SITE] }),
      SALESFORCE_LOGIN_URL: `http://127.0.0.1:${8090 + OFFSET}`,
      HUBSPOT_BASE_URL: `http://127.0.0.1:${8090 + OFFSET}`,
    },
  });
  site = await startDemoSite({ port: SITE_PORT, intakeUrl: INTAKE_HTTP, siteKey: SITE_KEY, formToken: await auth.token(['leads:submit'], 'team:demo-site') });
  browser = await launchBrowser();
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, OFFSET), 90_000)));
}, 150_000);

afterAll(async () => {
  await browser?.close();
  intakeClient.close();
  scoringClient.close();
  await site?.close();
  await stopStack(services);
  await simulator?.close();
});

/** Every request the page makes to intake, with its answer's status once it came. */
function intakeTraffic(page: Page): Array<{ request: PwRequest; status?: number }> {
  const seen: Array<{ request: PwRequest; status?: number }> = [];
  page.on('request', (request) => {
    if (request.url().startsWith(INTAKE_HTTP)) seen.push({ request });
  });
  page.on('requestfinished', async (request) => {
    const entry = seen.find((e) => e.request === request);
    if (entry) entry.status = (await request.response())?.status();
  });
  return seen;
}

async function personalizationIn(page: Page): Promise<Record<string, any> | undefined> {
  return page.evaluate(() => (window as any).leadmesh.personalization()) as Promise<Record<string, any> | undefined>;
}

async function newVisitor(options: { gpc?: boolean; userAgent?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ userAgent: options.userAgent ?? HUMAN_UA });
  if (options.gpc) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  return { context, page: await context.newPage() };
}

describe('the browser tracker on the demo site', () => {
  it('sends nothing and sets no cookie before consent, and nothing at all with Global Privacy Control on', async () => {
    const { context, page } = await newVisitor();
    const traffic = intakeTraffic(page);
    await page.goto(`${SITE}/`);
    await page.getByRole('dialog', { name: 'Cookie consent' }).waitFor();
    await page.goto(`${SITE}/pricing`);
    await page.goto(`${SITE}/`);
    await Promise.all([page.waitForURL('**/guides/getting-started.pdf'), page.getByText('Download the getting-started guide').click()]);
    // Leaving the page is when the tracker flushes whatever it holds (pagehide).
    await page.goto('about:blank');
    expect(traffic).toEqual([]);
    expect(await context.cookies()).toEqual([]);
    await context.close();

    // GPC: the banner's "Accept" is not enough, the signal wins.
    const gpc = await newVisitor({ gpc: true });
    const gpcTraffic = intakeTraffic(gpc.page);
    await gpc.page.goto(`${SITE}/pricing`);
    await gpc.page.getByRole('button', { name: 'Accept' }).click();
    expect(await gpc.page.evaluate(() => (window as any).leadmesh.visitorId())).toBeUndefined();
    await gpc.page.goto('about:blank');
    expect(gpcTraffic).toEqual([]);
    expect(await gpc.context.cookies()).toEqual([]);
    await gpc.context.close();
  }, 60_000);

  it('after consent records the pricing visits, changes the personalization, and stitches them to the lead the form creates', async () => {
    const { context, page } = await newVisitor();
    const traffic = intakeTraffic(page);
    await page.goto(`${SITE}/`);
    await page.getByRole('button', { name: 'Accept' }).click();
    const visitorId = (await page.evaluate(() => (window as any).leadmesh.visitorId())) as string;
    expect(visitorId).toMatch(/^[0-9a-f]{32}$/);
    expect((await context.cookies()).map((c) => c.name)).toEqual(['lm_vid']);

    // One page view: an anonymous, cold visitor is offered the guide.
    const before = await eventually('the home page view in the personalization', async () => {
      const p = await personalizationIn(page);
      return p && p.activityCount >= 1 ? p : undefined;
    });
    expect(before).toMatchObject({ known: false, gradeBand: 'GRADE_BAND_COLD', callToAction: { id: 'read-guide' } });

    await page.goto(`${SITE}/pricing`);
    await page.goto(`${SITE}/pricing`);
    await page.goto(`${SITE}/`);
    // Two pricing page views later the same visitor is shopping: talk to sales.
    const after = await eventually('the pricing visits in the personalization', async () => {
      const p = await personalizationIn(page);
      return p && p.gradeBand === 'GRADE_BAND_HOT' ? p : undefined;
    }, 30_000, 500);
    expect(after).toMatchObject({ known: false, callToAction: { id: 'talk-to-sales', path: '/contact-sales' }, rulesVersion: expect.any(String) });
    expect(after.activityCount).toBeGreaterThanOrEqual(4);
    expect(after.reasons.join(' ')).toMatch(/2 pricing page views/);
    // The page shows it too.
    await page.reload();
    await eventually('the page to show the call to action', async () => ((await page.locator('#personalized').getAttribute('data-cta')) === 'talk-to-sales' ? true : undefined));
    const beacons = traffic.filter((t) => t.request.url().includes('/v1/activities'));
    expect(beacons.length).toBeGreaterThan(0);
    expect(beacons.every((b) => b.request.method() === 'POST')).toBe(true);

    // The Contact Sales form carries the visitor id and makes the lead.
    const email = `ada.${randomBytes(4).toString('hex')}@example-analytics.com`;
    await page.goto(`${SITE}/contact-sales`);
    expect(await page.locator('input[name="visitor_id"]').inputValue()).toBe(visitorId);
    await page.getByLabel('Work email').fill(email);
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Lovelace');
    await page.getByLabel('Company', { exact: true }).fill('Example Analytics');
    await page.getByLabel('Job title').fill('Director of Engineering');
    await page.getByLabel('Industry').fill('Software');
    await page.getByLabel('Company size').fill('120');
    await page.getByLabel('Country').fill('US');
    await page.getByRole('button', { name: 'Talk to sales' }).click();
    const leadId = (await page.locator('#thanks').getAttribute('data-lead-id'))!;
    expect(leadId).toMatch(/^[0-9a-f-]{36}$/);

    // The journey starts with the visits from before the form.
    const journey = await eventually('the pricing visits in the journey', async () => {
      const j = await intakeClient.getLeadJourney({ leadId });
      return j.steps.filter((s) => s.summary.startsWith('Viewed the pricing page')).length >= 2 ? j : undefined;
    });
    const summaries = journey.steps.map((s) => s.summary);
    const firstSubmission = summaries.findIndex((s) => s.startsWith('First submission'));
    expect(summaries.slice(0, firstSubmission).filter((s) => s === `Viewed the pricing page (${SITE}/pricing).`)).toHaveLength(2);

    // The engagement score counts them.
    const score = await eventually('the pricing views in the score', async () => {
      const s = (await scoringClient.getLeadScore({ leadId })).score;
      return s?.reasons.some((r) => r.ruleId === 'engagement.activity.pricing-page-view' && r.points > 0) ? s : undefined;
    }, 60_000, 300);
    expect(score.engagementScore).toBeGreaterThanOrEqual(50);
    expect(score.reasons.find((r) => r.ruleId === 'engagement.activity.pricing-page-view')!.explanation).toMatch(/2 pricing page views/);

    // Personalization now knows the lead, in bands only: no name, no email, no lead id.
    const known = await eventually('the lead in the personalization', async () => {
      const p = await personalizationIn(page);
      return p?.known ? p : undefined;
    });
    expect(known).toMatchObject({ segment: { industry: 'Software', companySizeBand: '51-200' }, gradeBand: 'GRADE_BAND_HOT' });
    const text = JSON.stringify(known);
    for (const personal of [email, 'Ada', 'Lovelace', leadId]) expect(text).not.toContain(personal);
    // And the same answer over gRPC for other teams.
    const rpc = await intakeClient.getPersonalization({ visitorId });
    expect(rpc.personalization).toMatchObject({ known: true, gradeBand: intake.GradeBand.HOT, callToAction: { id: 'talk-to-sales' } });
    await context.close();
  }, 150_000);

  it('refuses a page on an origin the site key is not bound to, and drops a headless crawler', async () => {
    const { context, page } = await newVisitor();
    const refused = page.waitForResponse((r) => r.url().startsWith(`${INTAKE_HTTP}/v1/activities`));
    await page.goto(`${FOREIGN_SITE}/pricing`);
    await page.getByRole('button', { name: 'Accept' }).click();
    const foreignVisitor = (await page.evaluate(() => (window as any).leadmesh.visitorId())) as string;
    // The tracker's batch leaves within a second while the page stays open.
    const answer = await refused;
    expect(answer.status()).toBe(403);
    expect(answer.headers()['access-control-allow-origin']).toBeUndefined();
    // The page cannot read personalization either (no CORS for its origin).
    await page.goto(`${FOREIGN_SITE}/`);
    const read = await page.evaluate(() => (window as any).leadmesh.personalization().then(() => 'read', (e: Error) => e.name));
    expect(read).toBe('TypeError');
    await context.close();

    // A crawler that runs scripts: its beacon is answered and dropped.
    const bot = await browser.newContext(); // headless chromium's own "HeadlessChrome" user agent
    const botPage = await bot.newPage();
    const dropped = botPage.waitForResponse((r) => r.url().startsWith(`${INTAKE_HTTP}/v1/activities`));
    await botPage.goto(`${SITE}/pricing`);
    await botPage.getByRole('button', { name: 'Accept' }).click();
    const botVisitor = (await botPage.evaluate(() => (window as any).leadmesh.visitorId())) as string;
    expect((await dropped).status()).toBe(204);
    await bot.close();

    // Nothing of either visitor was stored.
    for (const visitorId of [foreignVisitor, botVisitor]) {
      expect((await intakeClient.getPersonalization({ visitorId })).personalization).toMatchObject({ known: false, activityCount: 0 });
    }
  }, 60_000);
});
