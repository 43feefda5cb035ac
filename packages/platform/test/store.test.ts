// The store against the real FerretDB: ready (and so SERVING) only once every model's indexes
// exist, because the unique keys the services rely on (one contact per email, one claim per step)
// are not enforced before that.
import { randomUUID } from 'node:crypto';
import { Schema } from 'mongoose';
import { MongoStore, createLogger, defineModel } from '@leadmesh/platform';

const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_platform_store_${randomUUID().slice(0, 8)}`, createLogger('platform-store-test', 'silent'));
// Several models, so the last one's indexes come well after the connection itself.
for (const name of ['First', 'Second', 'Third', 'Fourth']) {
  defineModel(store, name, new Schema({ _id: String, a: { type: String, index: true }, b: { type: String, index: true } }), name.toLowerCase());
}
const people = defineModel<{ _id: string; email: string }>(store, 'Person', new Schema({ _id: String, email: { type: String, unique: true } }), 'people');

afterAll(async () => {
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
});

describe('the store', () => {
  it('is ready only once its models\' indexes exist', async () => {
    store.start();
    await store.ready();
    const indexes = await people.listIndexes();
    expect(indexes).toEqual(expect.arrayContaining([expect.objectContaining({ key: { email: 1 }, unique: true })]));
  }, 60_000);
});
