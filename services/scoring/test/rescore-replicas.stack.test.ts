// Two scoring replicas on one store: they agree on the active rule set, a rescore job runs on one of
// them, and when that one dies mid-job the other takes the job over once its lease runs out.
// Then a rule-set file edited under an already published version stops the service at start.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { scoring } from '@leadmesh/contracts';
import { createClient, type NatsClient } from '@leadmesh/platform';
import { waitServing } from '../../../test/harness/health.ts';
import { ROOT, grpcAddress, startService, stopService, type RunningService } from '../../../test/harness/stack.ts';
import { connectNats, directorProfile, eventually, logDir, publishActivity, publishLeadReceived, resetNamespace } from './support.ts';

const NAMESPACE = 'scoring-replicas';
const OFFSETS = [410, 411] as const;
const NEXT = '2026-11-15.1';
const INITIAL = '2026-11-01.1';

let nats: NatsClient;
const replicas: RunningService[] = [];
const clients = OFFSETS.map((offset) => createClient(scoring.ScoringService, grpcAddress('scoring', offset), { timeoutMs: 10_000 }));

function startReplica(offset: number, name: string, env: Record<string, string> = {}): RunningService {
  return startService('scoring', {
    namespace: NAMESPACE,
    portOffset: offset,
    logDir: join(logDir(NAMESPACE), name),
    env: {
      SCORING_ACTIVE_RULE_SET: INITIAL,
      SCORING_SETTINGS_REFRESH_MS: '300',
      SCORING_RESCORE_POLL_MS: '200',
      SCORING_RESCORE_BATCH_SIZE: '1',
      SCORING_RESCORE_PAUSE_MS: '400',
      SCORING_RESCORE_LEASE_MS: '3000',
      ...env,
    },
  });
}

beforeAll(async () => {
  nats = await connectNats(NAMESPACE);
  await resetNamespace(NAMESPACE, nats);
  replicas.push(startReplica(OFFSETS[0], 'a'), startReplica(OFFSETS[1], 'b'));
  await Promise.all(OFFSETS.map((offset) => waitServing(grpcAddress('scoring', offset), 60_000)));
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const r of replicas) await stopService(r);
  await nats?.close();
});

const leadIds = Array.from({ length: 8 }, () => randomUUID());

it('both replicas seed the same rule sets and agree on the active one', async () => {
  // SERVING comes with the store connection; the rule sets are seeded just after.
  const [a, b] = await Promise.all(clients.map((c) => eventually('rule sets listed', () => c.listRuleSets({}))));
  expect(a!.activeVersion).toBe(INITIAL);
  expect(b!.activeVersion).toBe(INITIAL);
  expect(a!.ruleSets.map((r) => r.version)).toEqual([INITIAL, NEXT]);
  expect(b!.ruleSets.map((r) => [r.version, r.publishedAt])).toEqual(a!.ruleSets.map((r) => [r.version, r.publishedAt]));
});

it('a rescore whose replica dies mid-job is finished by the other, every lead once on the new version', async () => {
  for (const id of leadIds) {
    await publishLeadReceived(nats, id, directorProfile('replica'));
    await publishActivity(nats, id, 'PRICING_PAGE_VIEW');
  }
  for (const id of leadIds) {
    await eventually('lead scored with its activity', async () => {
      const { score } = await clients[0]!.getLeadScore({ leadId: id });
      return score && score.engagementScore > 0 ? score : undefined;
    });
  }

  const { rescore } = await clients[0]!.activateRuleSet({ version: NEXT });
  // The other replica sees the activation within one refresh.
  await eventually('replica b to see the new active version', async () => ((await clients[1]!.listRuleSets({})).activeVersion === NEXT ? true : undefined));

  const runner = await eventually('a replica to start the job', async () => {
    const progress = await clients[0]!.getRescoreProgress({ jobId: rescore!.jobId });
    if (progress.rescore!.done === 0) return undefined;
    return replicas.find((r) => {
      const log = readFileSync(r.logFile, 'utf8');
      return log.includes(`"jobId":"${rescore!.jobId}"`) && !log.includes('rescore lease lost');
    });
  });
  const survivorIndex = replicas.indexOf(runner) === 0 ? 1 : 0;
  const survivor = replicas[survivorIndex]!;
  const exited = once(runner.process, 'exit');
  runner.process.kill('SIGKILL');
  await exited;

  const finished = await eventually(
    'the survivor to finish the job',
    async () => {
      const { rescore: p } = await clients[survivorIndex]!.getRescoreProgress({ jobId: rescore!.jobId });
      return p!.finished ? p : undefined;
    },
    30_000,
  );
  expect(finished!.done).toBe(finished!.total);
  expect(finished!.total).toBe(leadIds.length);
  expect(readFileSync(survivor.logFile, 'utf8')).toContain(`"jobId":"${rescore!.jobId}"`);
  for (const id of leadIds) {
    const { score, history } = await clients[survivorIndex]!.getLeadScore({ leadId: id });
    expect(score!.ruleSetVersion).toBe(NEXT);
    // Rescored exactly once by the job, whichever replica ran that lead: no earlier score is on NEXT.
    expect(history.length).toBeGreaterThanOrEqual(1);
    expect(history.every((h) => h.ruleSetVersion === INITIAL)).toBe(true);
  }
}, 60_000);

it('refuses to start when a rule-set file changed under a version already in the store, naming the version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scoring-rules-'));
  try {
    const original = readFileSync(join(ROOT, 'services', 'scoring', 'rules', `${INITIAL}.yaml`), 'utf8');
    writeFileSync(join(dir, `${INITIAL}.yaml`), original.replace('points: 15, maxPoints: 45', 'points: 16, maxPoints: 45'));
    const edited = startReplica(OFFSETS[0] + 5, 'edited', { SCORING_RULES_DIR: dir });
    const [code] = (await once(edited.process, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    const log = readFileSync(edited.logFile, 'utf8');
    expect(log).toContain(`rule set ${INITIAL}`);
    expect(log).toContain('differs from the stored rule set');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
