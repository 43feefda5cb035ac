// Round-robin turns and daily counts against the real FerretDB, with two OwnerLoadStore instances
// standing for two replicas: each keeps its counts in memory, a turn is granted to one replica
// only, a replica that lost a claim learns the owner's count from it, decisions stay exactly
// weighted, and daily counts written by one replica reach the other.
import { createLogger } from '@leadmesh/platform';
import { testStore } from '../../../test/harness/store.ts';
import { pickByWeightedRoundRobin, type Owner } from '../src/domain/index.js';
import { OwnerLoadStore } from '../src/owner-load.store.js';

const db = testStore('routing-owner-load');
const logger = createLogger('routing-owner-load', 'silent');
const replicaA = new OwnerLoadStore(db.store, logger);
const replicaB = new OwnerLoadStore(db.store, logger);
const DAY = '2026-11-27';

const owner = (id: string, weight: number): Owner => ({
  id,
  name: id,
  email: `${id}@leadmesh.example`,
  teamId: 'smb',
  territories: [],
  weight,
  capacityPerDay: 1000,
  timeZone: 'UTC',
  workingHours: { days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '24:00' },
  outOfOffice: [],
  active: true,
});

beforeAll(() => db.start(), 60_000);

afterAll(async () => {
  delete process.env.ROUTING_LOAD_CACHE_MS;
  await db.stop();
});

/** One routing decision on a replica: pick on its counts, claim, and on a lost claim decide again. */
async function route(replica: OwnerLoadStore, owners: Owner[]): Promise<{ ownerId: string; lost: number }> {
  for (let lost = 0; lost < 10; lost++) {
    const load = await replica.loads(owners, DAY);
    const chosen = pickByWeightedRoundRobin(owners, load)!;
    if (await replica.claimTurn({ teamId: 'smb', ownerId: chosen.id, seenTurns: load.get(chosen.id)!.roundRobinTurns }, DAY)) return { ownerId: chosen.id, lost };
  }
  throw new Error('no turn after 10 claims');
}

describe('round-robin turns held per replica', () => {
  it('grants each turn of an owner to one replica, and the loser learns the count', async () => {
    const solo = [owner('solo', 1)];
    const results = await Promise.all([replicaA, replicaB].map((r) => r.claimTurn({ teamId: 'smb', ownerId: 'solo', seenTurns: 0 }, DAY)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const loser = results[0] ? replicaB : replicaA;
    expect((await loser.loads(solo, DAY)).get('solo')!.roundRobinTurns).toBe(1);
    expect(await loser.claimTurn({ teamId: 'smb', ownerId: 'solo', seenTurns: 1 }, DAY)).toBe(true);
    expect((await replicaA.loads(solo, DAY, true)).get('solo')!.roundRobinTurns).toBe(2);
  });

  it('splits leads handled by two replicas in turn exactly by weight, though neither writes a summary', async () => {
    const owners = [owner('priya', 3), owner('tom', 1)];
    const got = new Map<string, number>();
    let lost = 0;
    for (let i = 0; i < 40; i++) {
      const decision = await route(i % 2 === 0 ? replicaA : replicaB, owners);
      got.set(decision.ownerId, (got.get(decision.ownerId) ?? 0) + 1);
      lost += decision.lost;
    }
    expect(Object.fromEntries(got)).toEqual({ priya: 30, tom: 10 });
    // Each replica learns the other's turns only from a lost claim.
    expect(lost).toBeGreaterThan(0);
    const turns = await db.store.connection.collection('round_robin_turns').find({ teamId: 'smb', ownerId: { $in: ['priya', 'tom'] } }).toArray();
    expect(turns).toHaveLength(40);
    // A replica started now finds each owner's latest turn by key, without scanning the ledger.
    const started = await new OwnerLoadStore(db.store, logger).loads(owners, DAY);
    expect([started.get('priya')!.roundRobinTurns, started.get('tom')!.roundRobinTurns]).toEqual([30, 10]);
  });

  it('counts a day across replicas once each has written its counts', async () => {
    const owners = [owner('dana', 1)];
    replicaA.countAssignment('dana', DAY);
    replicaA.countAssignment('dana', DAY);
    replicaB.countAssignment('dana', DAY);
    // A replica counts its own leads at once, before they are written.
    expect((await replicaA.loads(owners, DAY)).get('dana')!.assignedToday).toBe(2);
    await Promise.all([replicaA.flush(), replicaB.flush()]);
    // Counts read just now may be reused for ROUTING_LOAD_CACHE_MS; here every read goes to the store.
    process.env.ROUTING_LOAD_CACHE_MS = '0';
    expect((await replicaA.loads(owners, DAY, true)).get('dana')!.assignedToday).toBe(3);
    expect((await replicaB.loads(owners, DAY, true)).get('dana')!.assignedToday).toBe(3);
    // Each replica wrote only its own count: no two writers ever incremented one document.
    const stored = await db.store.connection.collection('owner_days').find({ ownerId: 'dana', day: DAY }).toArray();
    expect(stored.map((d) => d.assigned).sort()).toEqual([1, 2]);
  });
});
