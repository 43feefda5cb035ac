// leadmesh_store_commands_total: one increment per command the driver starts, labelled with the
// command and the collection it names, exported by every service's registry.
import { Metrics } from '../metrics.js';
import { countStoreCommand } from './store.js';

async function countOf(metrics: Metrics, command: string, collection: string): Promise<number> {
  const { values } = await metrics.storeCommands.get();
  return values.find((v) => v.labels.command === command && v.labels.collection === collection)?.value ?? 0;
}

describe('store command count', () => {
  const metrics = new Metrics('store-commands-spec');

  it('counts each command under its name and the collection it names', async () => {
    const inserts = await countOf(metrics, 'insert', 'spec_leads');
    const finds = await countOf(metrics, 'find', 'spec_leads');
    countStoreCommand({ commandName: 'insert', command: { insert: 'spec_leads', documents: [{ _id: 'a' }, { _id: 'b' }] } });
    countStoreCommand({ commandName: 'insert', command: { insert: 'spec_leads', documents: [{ _id: 'c' }] } });
    countStoreCommand({ commandName: 'find', command: { find: 'spec_leads', filter: { _id: 'a' } } });
    // One bulk insert of two documents is one command: the count is of round trips, not documents.
    expect(await countOf(metrics, 'insert', 'spec_leads')).toBe(inserts + 2);
    expect(await countOf(metrics, 'find', 'spec_leads')).toBe(finds + 1);
  });

  it('finds the collection of a getMore, and counts admin commands under no collection', async () => {
    const getMores = await countOf(metrics, 'getMore', 'spec_steps');
    const pings = await countOf(metrics, 'ping', '');
    countStoreCommand({ commandName: 'getMore', command: { getMore: 42n, collection: 'spec_steps', batchSize: 100 } });
    countStoreCommand({ commandName: 'ping', command: { ping: 1 } });
    expect(await countOf(metrics, 'getMore', 'spec_steps')).toBe(getMores + 1);
    expect(await countOf(metrics, 'ping', '')).toBe(pings + 1);
  });

  it('is in the text a service serves on /metrics, with the service label', async () => {
    countStoreCommand({ commandName: 'update', command: { update: 'spec_assignments', updates: [] } });
    expect(await metrics.registry.metrics()).toMatch(/^leadmesh_store_commands_total\{command="update",collection="spec_assignments",service="store-commands-spec"\} \d+$/m);
  });
});
