// What a lead costs routing's store, counted by routing itself (leadmesh_store_commands_total, from
// the driver's command events) around a batch of leads on the real NATS and FerretDB: a burst of
// new leads, new leads one at a time, the same leads scored again, and account matches.
import { randomUUID } from 'node:crypto';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { encodeEvent } from '@leadmesh/platform';
import { contactSalesLead, eventually, scoredEvent, startRouting, type RoutingStack } from './support.ts';

const NAMESPACE = 'routing-calls';
const OFFSET = 130;
const BURST = 100;
let stack: RoutingStack;

beforeAll(async () => {
  stack = await startRouting(NAMESPACE, [OFFSET]);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

type Counts = Map<string, number>;

async function metricsText(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${9463 + OFFSET}/metrics`)).text();
}

/** `command collection` -> commands sent so far. */
async function storeCommands(): Promise<Counts> {
  const counts: Counts = new Map();
  for (const line of (await metricsText()).split('\n')) {
    const m = /^leadmesh_store_commands_total\{(.*)\} (\d+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    counts.set(`${labels.command} ${labels.collection}`, Number(m[2]));
  }
  return counts;
}

async function handledScored(): Promise<number> {
  const line = (await metricsText()).split('\n').find((l) => l.startsWith('leadmesh_events_handled_total') && l.includes('routing-lead-scored') && l.includes('"ack"'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** Commands per event between two readings, by command and collection, and in all. */
function perEvent(before: Counts, after: Counts, n: number): { total: number; by: Record<string, number> } {
  const by: Record<string, number> = {};
  let total = 0;
  for (const [key, value] of after) {
    const d = value - (before.get(key) ?? 0);
    if (d === 0) continue;
    by[key] = Math.round((d / n) * 100) / 100;
    total += d;
  }
  return { total: Math.round((total / n) * 100) / 100, by };
}

const assignments = () => stack.db.collection('assignments');

/** Every lead assigned, then no store command for a while, so the batched writes after them count too. */
async function settled(leadIds: string[], thenQuiet = true): Promise<void> {
  await eventually(
    `${leadIds.length} assignments`,
    async () => ((await assignments().countDocuments({ _id: { $in: leadIds } as never, assignment: { $exists: true } })) === leadIds.length ? true : undefined),
    120_000,
    100,
  );
  if (thenQuiet) await quiet();
}

/** Waits until routing sends no store command for 1.5 s (its outbox clearing and count flushes run within a second). */
async function quiet(): Promise<void> {
  let last = '';
  await eventually(
    'routing to go quiet',
    async () => {
      const now = JSON.stringify([...(await storeCommands())].sort());
      const same = now === last;
      last = now;
      return same ? true : undefined;
    },
    60_000,
    1500,
  );
}

async function measure(label: string, n: number, run: () => Promise<void>) {
  const before = await storeCommands();
  await run();
  const result = perEvent(before, await storeCommands(), n);
  process.stdout.write(`routing store commands per event, ${label} (${n}): ${result.total} ${JSON.stringify(result.by)}\n`);
  return result;
}

const newIds = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('store commands routing sends per lead', () => {
  const burst = newIds(BURST);

  beforeAll(async () => {
    // Warm: owners seeded, counters loaded, indexes in use.
    const warm = newIds(5);
    for (const id of warm) await stack.publisher.publish(scoredEvent(id));
    await settled(warm);
  }, 60_000);

  it('a burst of new leads', async () => {
    const result = await measure('burst of new leads', BURST, async () => {
      await Promise.all(burst.map((id) => stack.publisher.publish(scoredEvent(id))));
      await settled(burst);
    });
    // One read of the lead's document, one turn, one insert of the assignment, and the outbox clear
    // after lead.routed is published (one read and one compare-and-set); the rest is batched.
    expect(result.by['find assignments']).toBeLessThanOrEqual(2.05);
    expect(result.by['insert round_robin_turns']).toBeLessThanOrEqual(1.02);
    // At most one insert per lead; the group commit may carry several leads' in one.
    expect(result.by['insert assignments']).toBeLessThanOrEqual(1);
    expect(result.total).toBeLessThanOrEqual(5.5);
  }, 180_000);

  it('new leads one at a time', async () => {
    const ids = newIds(10);
    const result = await measure('new leads one at a time', ids.length, async () => {
      for (const id of ids) {
        await stack.publisher.publish(scoredEvent(id));
        await settled([id], false);
      }
      await quiet();
    });
    // The same three, plus what a burst shares between leads: the outbox clearing (here one read and
    // one write for each lead alone), the daily counts, the directory.
    expect(result.by['find assignments']).toBeLessThanOrEqual(2.1);
    expect(result.total).toBeLessThanOrEqual(7.5);
  }, 120_000);

  it('the same leads scored again', async () => {
    const start = await handledScored();
    const result = await measure('leads scored again', BURST, async () => {
      await Promise.all(
        burst.map((leadId) => {
          const { profile, score } = contactSalesLead();
          return stack.publisher.publish(
            encodeEvent(SUBJECTS.leadScored, events.LeadScoredSchema, { eventId: `test-rescored:${leadId}`, leadId, occurredAt: timestampFromDate(new Date()), profile, score }),
          );
        }),
      );
      await eventually('every second score handled', async () => ((await handledScored()) >= start + BURST ? true : undefined), 60_000, 200);
      await quiet();
    });
    // The read alone: the lead is assigned, so nothing is decided, claimed or written.
    expect(result.total).toBeLessThanOrEqual(1.1);
  }, 120_000);

  it('account matches (no round-robin turn)', async () => {
    const ids = newIds(20);
    const result = await measure('account matches', ids.length, async () => {
      await Promise.all(ids.map((id) => stack.publisher.publish(scoredEvent(id, { email: `buyer.${id.slice(0, 6)}@initech.io` }))));
      await settled(ids);
    });
    // No round-robin turn: the read and the insert, the daily count batched.
    expect(result.by['insert round_robin_turns']).toBeUndefined();
    expect(result.total).toBeLessThanOrEqual(4.5);
  }, 120_000);
});
