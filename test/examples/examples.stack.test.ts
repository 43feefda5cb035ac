// Both client examples against a live stack, as other teams would run them: the Go example with
// `go run`, the TypeScript one on Node 24. Then the leadmesh CLI shows the journey of the lead the
// Go example submitted.
import { join } from 'node:path';
import { nodeBinary, ROOT } from '../harness/stack.ts';
import { leadmeshCli, run, startClientsStack, UUID, type ClientsStack } from './clients-stack.ts';

const NAMESPACE = 'clients-examples';
const PORT_OFFSET = 700;
let stack: ClientsStack;

beforeAll(async () => {
  // What another team's service gets: submit leads and read them.
  stack = await startClientsStack(NAMESPACE, PORT_OFFSET, ['leads:submit', 'leads:read']);
}, 120_000);
afterAll(() => stack?.stop());

/** Every service's part of the story, in the order the pipeline runs. */
function expectWholeJourney(stdout: string, leadId: string) {
  expect(stdout).toContain(`journey of lead ${leadId}`);
  const lines = stdout.split('\n');
  const index = (pattern: RegExp) => {
    const i = lines.findIndex((l) => pattern.test(l));
    expect({ pattern: String(pattern), found: i >= 0 }).toEqual({ pattern: String(pattern), found: true });
    return i;
  };
  const received = index(/intake\s+lead received \(.*@example-analytics\.com, Example Analytics, (US|DE)\)/);
  const scored = index(/scoring\s+scored [A-D][1-4] \(fit \d+, engagement \d+\), stage (LEAD|MQL), rule set \S+/);
  const assigned = index(/routing\s+assigned to .+ by rule \S+/);
  const enrolled = index(/nurture\s+enrolled in track \S+ v\S+/);
  const synced = index(/crm-sync\s+synced to the CRM as \S+ \(\d+ ms after it was received\)/);
  expect(received).toBeLessThan(scored);
  expect(scored).toBeLessThan(assigned);
  expect(Math.max(assigned, enrolled)).toBeLessThan(lines.length);
  expect(received).toBeLessThan(synced);
}

describe('the client examples', () => {
  let goLeadId = '';

  it('runs the Go example: submits a lead and prints its journey into the CRM', async () => {
    const result = await run('go', ['run', '.', '-wait', '45s'], { cwd: join(ROOT, 'examples', 'go'), env: stack.env, timeoutMs: 170_000 });
    expect({ code: result.code, stderr: result.code ? result.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const submitted = result.stdout.match(new RegExp(`^lead (${UUID.source}) submitted \\(SUBMISSION_OUTCOME_NEW_LEAD\\)$`, 'm'));
    expect(submitted).not.toBeNull();
    goLeadId = submitted![1]!;
    expectWholeJourney(result.stdout, goLeadId);
  }, 180_000);

  it('runs the TypeScript example: submits a lead and prints its journey into the CRM', async () => {
    const result = await run(nodeBinary(), [join(ROOT, 'examples', 'typescript', 'submit-and-journey.ts')], { env: { ...stack.env, EXAMPLE_WAIT_MS: '45000' } });
    expect({ code: result.code, stderr: result.code ? result.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const submitted = result.stdout.match(new RegExp(`^lead (${UUID.source}) submitted`, 'm'));
    expect(submitted).not.toBeNull();
    expectWholeJourney(result.stdout, submitted![1]!);
  }, 90_000);

  it('shows the journey of the Go example’s lead with the leadmesh CLI', async () => {
    expect(goLeadId).toMatch(UUID);
    const result = await leadmeshCli(['journey', goLeadId], stack.env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`Journey of lead ${goLeadId}`);
    expect(result.stdout).toMatch(/intake\s+lead received \(go-example\.\d+@example-analytics\.com, Example Analytics, US\)/);
    expect(result.stdout).toMatch(/scoring\s+scored [A-D][1-4]/);
    expect(result.stdout).toMatch(/routing\s+assigned to/);
    expect(result.stdout).toMatch(/crm-sync\s+synced to the CRM as \S+/);
    expect(result.stdout).not.toContain('Not yet in');
  });

  it('is turned away without a token, with the status the server gave', async () => {
    const result = await run(nodeBinary(), [join(ROOT, 'examples', 'typescript', 'submit-and-journey.ts')], { env: { ...stack.env, LEADMESH_TOKEN: '' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('UNAUTHENTICATED');
  });
});
