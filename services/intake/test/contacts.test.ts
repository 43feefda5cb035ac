// The contact upsert against the real FerretDB: the insert goes first, and the unique email index
// decides between a new contact and the refresh of a known one, also for first submissions racing.
import { randomUUID } from 'node:crypto';
import { EventPublisher, Metrics, MongoStore, NatsClient, Outbox, createLogger, topology } from '@leadmesh/platform';
import { LeadStore } from '../src/lead.store.js';

const namespace = `intake-contacts-${randomUUID().slice(0, 8)}`;
const logger = createLogger('intake-contacts-test', 'silent');
const nats = new NatsClient('nats://127.0.0.1:4222', 'intake-contacts-test', logger, topology(namespace));
const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_${namespace.replace(/-/g, '_')}`, logger);
const leads = new LeadStore(store, new Outbox(new EventPublisher(nats), nats, new Metrics('intake-contacts-test'), logger));

beforeAll(async () => {
  store.start();
  await store.ready();
  await leads.contacts.init();
}, 60_000);

afterAll(async () => {
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
});

describe('the contact upsert', () => {
  it('makes one contact of concurrent first submissions from one email, and the others join it', async () => {
    const email = `ada.${randomUUID()}@example.com`;
    const at = new Date();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => leads.upsertContact(email, randomUUID(), { contact: { firstName: `Ada ${i}` } }, at)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.leadId)).size).toBe(1);
    expect(await leads.contacts.countDocuments({ emailKey: email })).toBe(1);
  });

  it('refreshes a known contact: its profile, last submission time and visitor ids, with no new contact', async () => {
    const email = `grace.${randomUUID()}@example.com`;
    const first = await leads.upsertContact(email, randomUUID(), { contact: { jobTitle: 'Engineer' } }, new Date('2026-11-01T00:00:00Z'), 'visitor-1');
    const later = new Date('2026-11-20T00:00:00Z');
    const again = await leads.upsertContact(email, randomUUID(), { contact: { jobTitle: 'Director' } }, later, 'visitor-2');
    expect(again).toEqual({ leadId: first.leadId, created: false });
    const contact = await leads.contacts.findById(first.leadId).lean();
    expect(contact).toMatchObject({ profile: { contact: { jobTitle: 'Director' } }, lastSubmittedAt: later, visitorIds: ['visitor-1', 'visitor-2'] });
  });
});
