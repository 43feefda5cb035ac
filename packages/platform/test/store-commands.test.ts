// The store counts what the driver really sends (leadmesh_store_commands_total), against the real
// FerretDB: the connection is opened with command monitoring, and each operation is one command.
import { randomUUID } from 'node:crypto';
import { Schema } from 'mongoose';
import { Metrics, MongoStore, createLogger, defineModel } from '@leadmesh/platform';

const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_platform_commands_${randomUUID().slice(0, 8)}`, createLogger('platform-commands-test', 'silent'));
const leads = defineModel<{ _id: string; stage: string }>(store, 'CountedLead', new Schema({ _id: String, stage: String }), 'counted_leads');
const metrics = new Metrics('platform-commands-test');

async function counted(): Promise<Record<string, number>> {
  const { values } = await metrics.storeCommands.get();
  return Object.fromEntries(values.filter((v) => v.labels.collection === 'counted_leads').map((v) => [v.labels.command, v.value]));
}

beforeAll(async () => {
  store.start();
  await store.ready();
}, 60_000);

afterAll(async () => {
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
});

describe('store command count', () => {
  it('counts one command per operation the service makes, by name and collection', async () => {
    const before = await counted();
    await leads.collection.insertOne({ _id: 'lead-1', stage: 'received' });
    await leads.updateOne({ _id: 'lead-1' }, { $set: { stage: 'scored' } });
    await leads.bulkWrite([
      { updateOne: { filter: { _id: 'lead-2' }, update: { $set: { stage: 'received' } }, upsert: true } },
      { updateOne: { filter: { _id: 'lead-3' }, update: { $set: { stage: 'received' } }, upsert: true } },
    ]);
    expect(await leads.findById('lead-1').lean()).toEqual({ _id: 'lead-1', stage: 'scored' });
    const after = await counted();
    const delta = (command: string) => (after[command] ?? 0) - (before[command] ?? 0);
    expect({ insert: delta('insert'), update: delta('update'), find: delta('find') }).toEqual({ insert: 1, update: 2, find: 1 });
  });
});
