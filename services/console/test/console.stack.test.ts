// The console in a real browser (Debian's chromium) against the live stack: the five services on the
// real NATS, FerretDB, Jaeger and Prometheus, the CRM simulator, the local OpenID Connect provider
// and the console as their processes run. People sign in through the provider's own page; every
// call the console makes carries their access token, and the services decide. Each page is checked
// with axe (no serious or critical violation) and photographed into docs/console/.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBinary, create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { crmsync, events, intake, nurture, routing, scoring } from '@leadmesh/contracts';
import { EVENT_ID_HEADER, HEADER_CONSUMER, HEADER_DEAD_LETTER_ERROR, HEADER_DELIVERIES, HEADER_ORIGINAL_SEQUENCE, HEADER_ORIGINAL_SUBJECT, createClient, topology } from '@leadmesh/platform';
import { startCrmSimulator, type CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { launchBrowser } from '../../../test/harness/browser.ts';
import { CONSOLE_PASSWORD, CONSOLE_URL, CONSOLE_USERS, OIDC_SERVICE_ENV, startConsole, type ConsoleProcesses } from '../../../test/harness/console.ts';
import { eventually } from '../../../test/harness/eventually.ts';
import { waitServing } from '../../../test/harness/health.ts';
import { adminConnectOptions } from '../../../test/harness/nats.ts';
import { ROOT, SERVICES, createStackAuth, grpcAddress, startStack, stopStack, type RunningService } from '../../../test/harness/stack.ts';

const NAMESPACE = 'console';
const RUN = randomBytes(3).toString('hex');
const COMPANY = `Console Check ${RUN}`;
const SHOTS = join(ROOT, 'docs', 'console');
const AXE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const logDir = join(ROOT, '.cache', 'logs', NAMESPACE);

let services: RunningService[] = [];
let simulator: CrmSimulator | undefined;
let consoleProcesses: ConsoleProcesses | undefined;
let browser: Browser | undefined;
const auth = await createStackAuth();
const team = await auth.token(['leads:submit', 'leads:read', 'rules:admin', 'scoring:preview', 'crm:replay'], 'team:console-test');
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake'), { token: team, timeoutMs: 10_000 });
const crmClient = createClient(crmsync.CrmSyncService, grpcAddress('crm-sync'), { token: team, timeoutMs: 10_000 });
const scoringClient = createClient(scoring.ScoringService, grpcAddress('scoring'), { token: team, timeoutMs: 10_000 });
const nurtureClient = createClient(nurture.NurtureService, grpcAddress('nurture'), { token: team, timeoutMs: 10_000 });
let leadId = '';
let traceId = '';

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  simulator = await startCrmSimulator({ port: 8090, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  services = startStack({ namespace: NAMESPACE, auth, logDir, env: OIDC_SERVICE_ENV });
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s), 90_000)));
  consoleProcesses = await startConsole({ logDir });
  browser = await launchBrowser();

  // One Contact Sales lead all the way through, as a form would send it.
  traceId = randomBytes(16).toString('hex');
  const { Metadata } = await import('@grpc/grpc-js');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  ({ leadId } = await intakeClient.submitLead(
    {
      contact: { email: `grace.${RUN}@example-analytics.com`, firstName: 'Grace', lastName: `Hopper${RUN}`, company: COMPANY, jobTitle: 'VP of Engineering', country: 'US', companySize: 1200, industry: 'Software' },
      source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing', utmSource: 'google' },
      interest: { product: 'analytics' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    },
    { metadata },
  ));
  await eventually('the lead in the CRM', async () => {
    const { record } = await crmClient.getSyncStatus({ leadId });
    return record?.status === crmsync.SyncStatus.SYNCED ? record : undefined;
  }, 90_000, 300);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await consoleProcesses?.stop();
  intakeClient.close();
  crmClient.close();
  scoringClient.close();
  nurtureClient.close();
  await stopStack(services);
  await simulator?.close();
}, 60_000);

async function signIn(email: string, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
  // bypassCSP only so the test can inject axe; the console's own scripts are all same-origin.
  const context = await browser!.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${CONSOLE_URL}${path}`);
  // The console sends a signed-out visitor to the provider's own sign-in page.
  await page.waitForURL(/127\.0\.0\.1:5556\/interaction\//, { timeout: 20_000 });
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${CONSOLE_URL}/**`, { timeout: 20_000 });
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  return { context, page };
}

/** axe-core in the page: the violations of serious or critical impact, by rule and element. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

async function checkPage(page: Page, name: string): Promise<void> {
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe('the console', () => {
  it('signs a marketer in through the provider, finds a lead by company and shows its whole journey', async () => {
    const context = await browser!.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const login = await context.newPage();
    await login.goto(`${CONSOLE_URL}/auth/login`);
    await login.getByLabel('Email').waitFor();
    await checkPage(login, '0-sign-in');
    await context.close();

    const { context: ctx, page } = await signIn(CONSOLE_USERS.marketingOps, '/leads');
    try {
      // The session cookie is httpOnly and SameSite: the page's script cannot read it.
      const cookies = await ctx.cookies(CONSOLE_URL);
      const session = cookies.find((c) => c.name === 'leadmesh_console');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(await page.evaluate(() => document.cookie)).not.toContain('leadmesh_console');
      // Marketing ops sees leads, pipeline, scoring and routing, and not privacy.
      expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).toEqual(['Leads', 'Pipeline', 'Scoring', 'Routing', 'Emails']);

      await page.getByLabel('Find a lead').fill(`check ${RUN}`); // words of the company, not its start
      await page.getByRole('button', { name: 'Search' }).click();
      const row = page.getByRole('row').filter({ hasText: COMPANY });
      await row.getByRole('link', { name: `Grace Hopper${RUN}` }).waitFor();
      await checkPage(page, '1-find-a-lead');

      await row.getByRole('link', { name: `Grace Hopper${RUN}` }).click();
      await page.getByRole('heading', { name: `Grace Hopper${RUN}` }).waitFor();
      expect(page.url()).toBe(`${CONSOLE_URL}/leads/${leadId}`);
      const stored = (await scoringClient.getLeadScore({ leadId })).score!;
      expect(await page.getByTestId('grade').textContent()).toBe(stored.grade);
      // The score's reasons, the routing decision, the consent, the emails and the CRM record.
      for (const reason of stored.reasons.slice(0, 3)) await page.getByRole('cell', { name: reason.explanation, exact: true }).first().waitFor();
      expect(await page.getByTestId('owner').textContent()).toMatch(/\S+ \(\S+\)/);
      await page.getByRole('cell', { name: 'agreed to marketing email' }).waitFor();
      expect(await page.getByTestId('sync-state').textContent()).toBe('synced');
      await page.getByRole('heading', { name: 'Emails' }).waitFor();
      const timeline = await page.locator('ol.timeline li').allTextContents();
      for (const service of ['intake', 'scoring', 'crm-sync']) expect(timeline.some((step) => step.includes(service))).toBe(true);
      expect(await page.getByRole('link', { name: /trace in Jaeger/ }).getAttribute('href')).toBe(`http://127.0.0.1:16686/trace/${traceId}`);
      await checkPage(page, '1-lead-journey');
    } finally {
      await ctx.close();
    }
  }, 120_000);

  it("previews another rule set's effect on the newest leads and one lead, activates it with a confirmation, then rolls back", async () => {
    const { ruleSets, activeVersion } = await scoringClient.listRuleSets({});
    const candidate = ruleSets.find((r) => r.version !== activeVersion)!.version;
    const { context, page } = await signIn(CONSOLE_USERS.marketingOps, '/scoring');
    try {
      await page.getByTestId('active-version').waitFor();
      expect(await page.getByTestId('active-version').count()).toBe(1);
      await page.getByLabel('Compare').selectOption(activeVersion);
      await page.getByLabel('with').selectOption(candidate);
      await page.getByText(/lines differ\./).waitFor();

      // What-if: both versions on the same inputs, for the newest leads and for our lead.
      await page.getByLabel('Version to try').selectOption(candidate);
      await page.getByLabel('Explain one lead').fill(leadId);
      await page.getByRole('button', { name: 'Preview effect' }).click();
      const summary = await page.getByTestId('preview-summary').textContent();
      expect(summary).toMatch(new RegExp(`^\\d+ of \\d+ recent leads would change grade with ${candidate.replace(/\./g, '\\.')} \\(active: ${activeVersion.replace(/\./g, '\\.')}\\)\\.$`));
      const explained = await page.getByTestId('what-if-lead').textContent();
      const { profile } = (await intakeClient.getLead({ leadId })).lead!;
      const [now, then] = await Promise.all([activeVersion, candidate].map((v) => scoringClient.scoreLead({ profile, ruleSetVersion: v }).then((r) => r.score!.grade)));
      expect(explained).toBe(`Grace Hopper${RUN} (${COMPANY}): ${now} with ${activeVersion}, ${then} with ${candidate}`);
      await page.getByRole('table', { name: 'Grades before and after' }).waitFor();
      await checkPage(page, '3-what-if-scoring');

      // Activate, confirmed in a dialog; the service now scores with it.
      await page.getByLabel('Make this version active').selectOption(candidate);
      await page.getByRole('button', { name: 'Activate…' }).click();
      await page.getByRole('dialog').getByRole('button', { name: `Yes, activate ${candidate}` }).click();
      await page.getByText(`${candidate} is active.`).waitFor();
      expect((await scoringClient.listRuleSets({})).activeVersion).toBe(candidate);
      await page.getByText(/Rescore finished/).waitFor({ timeout: 60_000 });

      // Roll back: the previous version again, the same way.
      await page.reload();
      await page.getByLabel('Make this version active').selectOption(activeVersion);
      await page.getByRole('button', { name: 'Activate…' }).click();
      await page.getByRole('dialog').getByRole('button', { name: `Yes, activate ${activeVersion}` }).click();
      await page.getByText(`${activeVersion} is active.`).waitFor();
      expect((await scoringClient.listRuleSets({})).activeVersion).toBe(activeVersion);
    } finally {
      await context.close();
      // Leave the namespace as it was even when an assertion failed half-way.
      if ((await scoringClient.listRuleSets({})).activeVersion !== activeVersion) await scoringClient.activateRuleSet({ version: activeVersion });
    }
  }, 180_000);

  it('shows the pipeline and replays a parked event, which the service then applies', async () => {
    // An activity event scoring's consumer parked earlier (say a rule threw then, since fixed): put
    // in the dead-letter stream exactly as the consumer parks one, headers and all.
    const t = topology(NAMESPACE);
    const nc = await connect({ servers: 'nats://127.0.0.1:4222', ...adminConnectOptions() });
    const activityId = `console-replay-${RUN}`;
    const eventId = `activity.recorded:${activityId}`;
    try {
      const event = create(events.ActivityRecordedSchema, { eventId, leadId, occurredAt: timestampFromDate(new Date()), activityId, activityType: 'ACTIVITY_TYPE_WEBINAR_ATTENDED' });
      const headers = natsHeaders();
      headers.set(EVENT_ID_HEADER, eventId);
      headers.set(HEADER_DEAD_LETTER_ERROR, 'engagement rule webinar-attended threw: (console test) rule fixed since');
      headers.set(HEADER_ORIGINAL_SUBJECT, t.subject('leadmesh.activity.recorded'));
      headers.set(HEADER_ORIGINAL_SEQUENCE, '1');
      headers.set(HEADER_CONSUMER, 'scoring-activity-recorded');
      headers.set(HEADER_DELIVERIES, '5');
      await jetstream(nc).publish(t.deadLetterSubject('scoring-activity-recorded'), toBinary(events.ActivityRecordedSchema, event), { msgID: eventId, headers });
    } finally {
      await nc.close();
    }
    const before = (await scoringClient.getLeadScore({ leadId })).score!;
    expect(before.reasons.some((r) => r.ruleId === 'engagement.activity.webinar-attended')).toBe(false);

    const { context, page } = await signIn(CONSOLE_USERS.marketingOps, '/pipeline');
    try {
      // Five stages, read from Prometheus; each service serving once scraped.
      await eventually('five serving stages', async () => {
        await page.reload();
        await page.getByRole('heading', { name: 'Parked events by service' }).waitFor();
        const stages = await page.locator('ol.stages li').allTextContents();
        return stages.length === 5 && stages.every((s) => s.includes('Running')) ? stages : undefined;
      }, 60_000, 2000);
      const row = page.getByRole('row').filter({ hasText: 'rule fixed since' });
      await row.waitFor();
      await checkPage(page, '2-is-data-moving');

      await row.getByRole('button', { name: /^Replay event \d+$/ }).click();
      await page.getByText(/^Replayed event \d+ of scoring\.$/).waitFor();
      // The service applied it: the webinar counts in the lead's score, and nothing is left parked.
      const after = await eventually('the replayed webinar in the score', async () => {
        const score = (await scoringClient.getLeadScore({ leadId })).score!;
        return score.reasons.some((r) => r.ruleId === 'engagement.activity.webinar-attended') ? score : undefined;
      }, 30_000, 300);
      expect(after.engagementScore).toBeGreaterThan(before.engagementScore);
      await page.reload();
      await page.getByRole('heading', { name: 'Parked events by service' }).waitFor();
      expect(await page.getByRole('row').filter({ hasText: 'rule fixed since' }).count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('sends a lead the CRM refused again once the CRM accepts it', async () => {
    // The CRM's validation rule refuses the title, as a real Salesforce rule would.
    simulator!.setFaults({ rejectField: 'Title' });
    try {
      const { leadId: refused } = await intakeClient.submitLead({ contact: { email: `refused.${RUN}@example-crm.org`, firstName: 'Rita', lastName: `Refused${RUN}`, company: `CRM Check ${RUN}`, jobTitle: 'VP of Engineering', country: 'US', companySize: 1200, industry: 'Software' }, source: { formId: 'contact-sales' } });
      await eventually('the CRM dead letter', async () => (await crmClient.listDeadLetters({ pageSize: 1000 })).deadLetters.find((d) => d.leadId === refused), 90_000, 300);
      const { context, page } = await signIn(CONSOLE_USERS.marketingOps, '/pipeline');
      try {
        const button = page.getByRole('button', { name: `Send lead ${refused} again` });
        await button.waitFor();
        await page.getByRole('row').filter({ hasText: refused }).getByText(/Title: value not accepted/).waitFor();
        // The rule is fixed at the CRM; the lead goes again from the console.
        simulator!.setFaults({ rejectField: undefined });
        await button.click();
        await page.getByText(`Lead ${refused} sent to the CRM again.`).waitFor();
        await eventually('the resent lead in the CRM', async () => {
          const { record } = await crmClient.getSyncStatus({ leadId: refused });
          return record?.status === crmsync.SyncStatus.SYNCED ? record : undefined;
        }, 10_000, 200);
        expect((await crmClient.listDeadLetters({ pageSize: 1000 })).deadLetters.map((d) => d.leadId)).not.toContain(refused);
      } finally {
        await context.close();
      }
    } finally {
      simulator!.setFaults({ rejectField: undefined });
    }
  }, 150_000);

  it("offers a viewer no action, and the service refuses one forced through the console's API", async () => {
    const { context, page } = await signIn(CONSOLE_USERS.viewer, '/leads');
    try {
      expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).toEqual(['Leads', 'Pipeline', 'Emails']);
      await page.goto(`${CONSOLE_URL}/scoring`);
      await page.getByRole('heading', { name: 'Nothing here for you' }).waitFor();
      await page.goto(`${CONSOLE_URL}/pipeline`);
      await page.getByRole('heading', { name: 'The pipeline over the last hour' }).waitFor();
      expect(await page.getByRole('heading', { name: 'Parked events by service' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /^Replay/ }).count()).toBe(0);
      await checkPage(page, '2-pipeline-as-viewer');

      // What nurture sends, as nurture lists it: every track with its emails and the leads in it.
      await page.getByRole('link', { name: 'Emails' }).click();
      const { tracks } = await nurtureClient.listTracks({});
      const confirmation = tracks.find((t) => t.trackId === 'contact-sales-confirmation')!;
      expect(confirmation.activeEnrollments + confirmation.completedEnrollments + confirmation.exitedEnrollments).toBeGreaterThan(0);
      const rows = page.getByRole('table', { name: 'Leads in each track' }).getByRole('row');
      await rows.nth(tracks.length).waitFor();
      expect(await rows.count()).toBe(tracks.length + 1);
      expect(await rows.filter({ hasText: confirmation.name }).getByRole('cell').allTextContents()).toEqual([
        confirmation.name, confirmation.kind.toLowerCase().replace(/_/g, ' '),
        String(confirmation.activeEnrollments), String(confirmation.completedEnrollments), String(confirmation.exitedEnrollments),
      ]);
      for (const track of tracks) await page.getByRole('table', { name: `Emails of ${track.name}` }).waitFor();
      await checkPage(page, '5-what-are-we-sending');

      // Forced: the same call the scoring page makes, sent from the viewer's signed-in page.
      const { activeVersion, ruleSets } = await scoringClient.listRuleSets({});
      const other = ruleSets.find((r) => r.version !== activeVersion)!.version;
      const answer = await page.evaluate(async (version) => {
        const res = await fetch('/api/leadmesh.scoring.v1.ScoringService/ActivateRuleSet', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' },
          body: JSON.stringify({ version }),
        });
        return { status: res.status, body: await res.json() };
      }, other);
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ code: 'permission_denied', message: 'user:vic lacks scope rules:admin' });
      expect((await scoringClient.listRuleSets({})).activeVersion).toBe(activeVersion);

      // Without the console's own header (another site's form or script) the call never leaves it.
      const csrf = await page.evaluate(async () => (await fetch('/api/leadmesh.intake.v1.IntakeService/SearchLeads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
      expect(csrf).toBe(403);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('shows sales ops the teams and owners, and where a sample lead would go', async () => {
    const sales = await auth.token(['owners:admin', 'routing:preview'], 'team:console-test');
    const routingClient = createClient(routing.RoutingService, grpcAddress('routing'), { token: sales, timeoutMs: 10_000 });
    const owners0 = (await routingClient.listOwners({})).owners;
    const { context, page } = await signIn(CONSOLE_USERS.salesOps, '/routing');
    try {
      expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).toEqual(['Leads', 'Pipeline', 'Routing', 'Emails']);
      const { owners } = await routingClient.listOwners({});
      expect(owners.length).toBeGreaterThan(0);
      for (const team of new Set(owners.map((o) => o.teamId))) await page.getByRole('table', { name: `Team ${team}` }).waitFor();
      await page.getByRole('cell', { name: owners[0]!.name, exact: true }).first().waitFor();

      // Availability, changed by those who manage owners, kept by routing.
      const owner = owners.find((o) => o.active)!;
      await page.getByRole('button', { name: `Mark ${owner.name} unavailable` }).click();
      await page.getByRole('button', { name: `Mark ${owner.name} available` }).waitFor();
      expect((await routingClient.listOwners({ teamId: owner.teamId })).owners.find((o) => o.ownerId === owner.ownerId)?.active).toBe(false);
      await page.getByRole('button', { name: `Mark ${owner.name} available` }).click();
      await page.getByRole('button', { name: `Mark ${owner.name} unavailable` }).waitFor();
      expect((await routingClient.listOwners({ teamId: owner.teamId })).owners.find((o) => o.ownerId === owner.ownerId)?.active).toBe(true);

      // Weight and daily cap, changed in place and kept by routing; the rest of the owner unchanged.
      await page.getByLabel(`Weight of ${owner.name}`).fill('2.5');
      await page.getByLabel(`Leads per day for ${owner.name} (0: no cap)`).fill('37');
      await page.getByRole('form', { name: `Weight and cap of ${owner.name}` }).getByRole('button', { name: 'Save' }).click();
      await page.getByText(`${owner.name}: weight 2.5, at most 37 leads a day.`).waitFor();
      const changed = (await routingClient.listOwners({ teamId: owner.teamId })).owners.find((o) => o.ownerId === owner.ownerId)!;
      expect({ weight: changed.weight, cap: changed.capacityPerDay, territories: changed.territories, email: changed.email }).toEqual({ weight: 2.5, cap: 37, territories: owner.territories, email: owner.email });

      // The round-robin distribution: each owner's turns as routing counts them, with the team's share.
      const listed = await routingClient.listOwners({ teamId: owner.teamId });
      const turns = listed.loads.map((l) => Number(l.roundRobinTurns));
      const total = turns.reduce((a, b) => a + b, 0);
      await page.getByRole('table', { name: `Round-robin turns in ${owner.teamId}: ${total} in all` }).waitFor();
      for (const [i, o] of listed.owners.entries()) {
        expect(listed.loads[i]!.ownerId).toBe(o.ownerId);
        expect((await page.getByTestId(`turns-${o.ownerId}`).textContent())?.trim()).toBe(`${turns[i]} (${total > 0 ? Math.round((turns[i]! / total) * 100) : 0} %)`);
      }

      await page.getByLabel('Country (ISO code)').fill('US');
      await page.getByLabel('Company size').fill('1200');
      await page.getByLabel('Grade').fill('A1');
      await page.getByRole('button', { name: 'Preview route' }).click();
      const shown = await page.getByTestId('route-preview').textContent();
      const { assignment } = await routingClient.previewRoute({ profile: { contact: { email: 'sample@example.org', country: 'US', companySize: 1200 } }, score: { grade: 'A1' } });
      expect(shown).toBe(`${assignment!.ownerName} of ${assignment!.teamId} would get it: ${assignment!.reason || assignment!.ruleId}.`);
      await checkPage(page, '4-who-gets-the-leads');
    } finally {
      // Every owner available again, whatever happened above.
      for (const o of owners0) if (o.active) await routingClient.setOwnerAvailability({ ownerId: o.ownerId, active: true, outOfOffice: o.outOfOffice }).catch(() => undefined);
      const edited = owners0.find((o) => o.active);
      if (edited) await routingClient.upsertOwner({ owner: edited }).catch(() => undefined);
      routingClient.close();
      await context.close();
    }
  }, 90_000);

  it('lets the privacy officer erase a person and shows each service confirm it', async () => {
    const email = `erase.me.${RUN}@example-privacy.org`;
    const { leadId: erased } = await intakeClient.submitLead({ contact: { email, firstName: 'Erin', lastName: `Erase${RUN}`, company: `Privacy Check ${RUN}`, country: 'DE' }, source: { formId: 'contact-sales' } });
    await eventually('the lead in the CRM', async () => {
      const { record } = await crmClient.getSyncStatus({ leadId: erased });
      return record?.status === crmsync.SyncStatus.SYNCED ? record : undefined;
    }, 90_000, 300);
    const { context, page } = await signIn(CONSOLE_USERS.privacy, '/privacy');
    try {
      expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).toEqual(['Leads', 'Pipeline', 'Emails', 'Privacy']);
      await page.getByLabel('Email address of the person').fill(email);
      await page.getByRole('button', { name: 'Erase…' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Yes, erase' }).click();
      await page.getByText('Erased in every service.').waitFor({ timeout: 60_000 });
      expect(await page.locator('tbody tr').count()).toBe(5);
      await checkPage(page, '6-privacy-erasure');
      // Gone from the search too.
      expect((await intakeClient.searchLeads({ query: erased })).leads).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);
});
