// The leadmesh CLI against a live stack, as an operator runs it: the built bin on Node 24 with the
// stack's addresses in LEADMESH_* variables. Submits leads, shows a journey, lists and replays a
// dead letter, and publishes and activates a rule set while the rescore's progress is shown.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../../test/harness/stack.ts';
import { leadmeshCli, startClientsStack, UUID, type ClientsStack } from '../../../test/examples/clients-stack.ts';

const NAMESPACE = 'clients-cli';
const PORT_OFFSET = 750;
const INITIAL = '2026-11-01.1';
let stack: ClientsStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'leadmesh-cli-'));
  // An operator's token: everything the CLI does.
  stack = await startClientsStack(NAMESPACE, PORT_OFFSET, ['leads:submit', 'leads:read', 'crm:replay', 'rules:admin', 'privacy:erase'], {
    SCORING_ACTIVE_RULE_SET: INITIAL,
    SCORING_SETTINGS_REFRESH_MS: '300',
    SCORING_RESCORE_POLL_MS: '200',
    SCORING_RESCORE_BATCH_SIZE: '1',
    SCORING_RESCORE_PAUSE_MS: '150',
    CRM_SYNC_MAX_DELIVER: '3',
    CRM_SYNC_BACKOFF_MS: '100,200',
    CRM_RETRY_MAX_ATTEMPTS: '1',
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => leadmeshCli(args, stack.env);

async function submitted(email: string, ...extra: string[]): Promise<string> {
  const result = await cli('submit', '--email', email, '--last-name', 'Hopper', '--company', 'Example Analytics', '--job-title', 'VP Engineering', '--country', 'DE', '--consent', ...extra);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout).toContain('new lead');
  return result.stdout.match(new RegExp(`^lead (${UUID.source})$`, 'm'))![1]!;
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('leadmesh', () => {
  it('submits a test lead and shows its journey as a timeline', async () => {
    const leadId = await submitted(`cli.${Date.now()}@example-analytics.com`, '--product', 'analytics');
    const result = await cli('journey', leadId, '--wait', '30');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`Journey of lead ${leadId}`);
    const services = lines.filter((l) => /^\d{4}-\d\d-\d\d /.test(l)).map((l) => l.slice(22).split(/\s+/)[0]);
    expect(services[0]).toBe('intake');
    expect(new Set(services)).toEqual(new Set(['intake', 'scoring', 'routing', 'nurture', 'crm-sync']));
    expect(result.stdout).toMatch(/· email marketing consent: yes \(wording leadmesh-cli\)/);
    expect(result.stdout).toMatch(/crm-sync\s+synced to the CRM as \S+/);
  });

  it('explains bad input instead of failing obscurely', async () => {
    const invalid = await cli('submit', '--email', 'not-an-email');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^leadmesh: INVALID_ARGUMENT: .*contact\.email/m);
    const badId = await cli('journey', '42');
    expect({ code: badId.code, stderr: badId.stderr.trim() }).toEqual({ code: 2, stderr: 'leadmesh: leadId must be a lead\'s UUID, got "42"' });
  });

  it('lists a dead letter with the CRM’s message and replays it once the CRM accepts the lead', async () => {
    stack.sim.setFaults({ rejectField: 'Title' });
    const leadId = await submitted(`dead.${Date.now()}@example-analytics.com`);
    const listed = await eventually(async () => {
      const r = await cli('dead-letters', 'list');
      return r.stdout.includes(leadId) ? r : undefined;
    });
    expect(listed.stdout).toMatch(new RegExp(`${leadId}\\s+\\d{4}-\\d\\d-\\d\\d \\S+Z\\s+\\d+\\s+\\S+\\s+.*Title`));
    stack.sim.setFaults({ rejectField: undefined });

    const replay = await cli('dead-letters', 'replay', '--all');
    expect(replay.code).toBe(0);
    expect(replay.stderr).toContain('replaying dead letters');
    expect(replay.stderr).toMatch(/\]\s+1\/1\s+100%/);
    expect(replay.stdout).toMatch(/^replayed 1, skipped 0 \(already synced\), failed 0$/m);
    const journey = await cli('journey', leadId, '--wait', '20');
    expect(journey.stdout).toMatch(/crm-sync\s+synced to the CRM as \S+/);
    const again = await cli('dead-letters', 'replay', leadId);
    expect(again.stdout).toMatch(/^replayed 0, skipped \d+ \(already synced\), failed 0$/m);
  });

  it('publishes a rule set and activates it, showing the rescore’s progress', async () => {
    for (let i = 0; i < 3; i++) await submitted(`rescore.${i}.${Date.now()}@example-analytics.com`);
    const before = await cli('rules', 'list');
    expect(before.stdout).toMatch(new RegExp(`^\\*\\s+${INITIAL.replace('.', '\\.')}\\s`, 'm'));

    const version = '2026-12-24.1';
    const document = readFileSync(join(ROOT, 'services', 'scoring', 'rules', '2026-11-15.1.yaml'), 'utf8').replace('version: "2026-11-15.1"', `version: "${version}"`);
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, document);
    const published = await cli('rules', 'publish', file);
    expect({ code: published.code, stderr: published.stderr }).toEqual({ code: 0, stderr: '' });
    expect(published.stdout).toContain(`published rule set ${version}`);

    const activated = await cli('rules', 'activate', version);
    expect({ code: activated.code, stderr: activated.stderr.includes('leadmesh:') ? activated.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(activated.stdout).toContain(`rule set ${version} is active`);
    expect(activated.stderr).toMatch(new RegExp(`rescoring with ${version.replace('.', '\\.')}\\s+\\[[#.]+\\]\\s+\\d+/\\d+\\s+\\d+%`));
    const [, done, total] = activated.stdout.match(new RegExp(`rescored (\\d+) of (\\d+) leads with ${version.replace('.', '\\.')}`))!;
    expect(Number(done)).toBe(Number(total));
    expect(Number(total)).toBeGreaterThanOrEqual(4);

    const after = await cli('rules', 'list');
    expect(after.stdout).toMatch(new RegExp(`^\\*\\s+${version.replace('.', '\\.')}\\s`, 'm'));
    expect(after.stdout).toContain(`active: ${version}`);
  }, 180_000);

  it('erases a contact and follows every service until it has finished', async () => {
    const email = `erase.${Date.now()}@example-analytics.com`;
    const leadId = await submitted(email);
    await cli('journey', leadId, '--wait', '30');
    const erased = await cli('erase', email);
    expect({ code: erased.code, stderr: erased.stderr.includes('leadmesh:') ? erased.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(erased.stdout).toMatch(new RegExp(`^erasure \\S+ requested for lead ${leadId}$`, 'm'));
    expect(erased.stdout).toMatch(/^erasure \S+ complete$/m);
    for (const service of ['intake', 'scoring', 'routing', 'nurture', 'crm-sync']) expect(erased.stdout).toMatch(new RegExp(`^${service}\\s+erased\\s+\\d{4}-`, 'm'));
    const journey = await cli('journey', leadId);
    expect(journey.stdout).not.toContain(email);
  }, 180_000);

  it('names the missing scope when the operator’s token does not carry it', async () => {
    const readOnly = await stack.token(['leads:read']);
    const denied = await leadmeshCli(['rules', 'list'], { ...stack.env, LEADMESH_TOKEN: readOnly });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^leadmesh: PERMISSION_DENIED: .*rules:admin/m);
  });

  it('reads a missing rule file as the operator’s mistake', async () => {
    const missing = await cli('rules', 'publish', join(dir, 'nope.yaml'));
    expect({ code: missing.code, stderr: missing.stderr.trim() }).toEqual({ code: 2, stderr: `leadmesh: cannot read rule set file ${join(dir, 'nope.yaml')}: ENOENT` });
  });
});
