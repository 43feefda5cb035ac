// The contact upsert against the real FerretDB: the insert goes first, and the unique email index
// decides between a new contact and the refresh of a known one, also for first submissions racing.
import { randomUUID } from 'node:crypto';
import { testStore } from '../../../test/harness/store.ts';
import { LeadStore } from '../src/lead.store.js';

const db = testStore('intake-contacts');
const leads = new LeadStore(db.store, db.outbox);

beforeAll(() => db.start(), 60_000);

afterAll(() => db.stop());

describe('the contact upsert', () => {
  it('makes one contact of concurrent first submissions from one email, and the others join it', async () => {
    const email = `ada.${randomUUID()}@example.com`;
    const at = new Date();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => leads.upsertContact(email, randomUUID(), { contact: { firstName: `Ada ${i}` } }, at)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.leadId)).size).toBe(1);
    expect(await leads.contacts.countDocuments({ emailKey: email })).toBe(1);
  });

  it('refreshes a known contact: its profile, last submission time and visitor ids, with no new contact, and keeps when it first arrived', async () => {
    const email = `grace.${randomUUID()}@example.com`;
    const first = await leads.upsertContact(email, randomUUID(), { contact: { jobTitle: 'Engineer' } }, new Date('2026-11-01T00:00:00Z'), 'visitor-1');
    const later = new Date('2026-11-20T00:00:00Z');
    const again = await leads.upsertContact(email, randomUUID(), { contact: { jobTitle: 'Director' } }, later, 'visitor-2');
    expect(again).toEqual({ leadId: first.leadId, created: false, firstReceivedAt: new Date('2026-11-01T00:00:00Z') });
    const contact = await leads.contacts.findById(first.leadId).lean();
    expect(contact).toMatchObject({ profile: { contact: { jobTitle: 'Director' } }, lastSubmittedAt: later, visitorIds: ['visitor-1', 'visitor-2'] });
  });
});
