import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import type { CrmAdapterEvent } from '../src/crm/resilience.js';
import { CrmRateLimitedError, CrmUnavailableError, CrmValidationError } from '../src/crm/crm-port.js';
import { caught, fastResilience, hubspotAdapter, startSimulator, until } from './support.js';

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const contact = (n: number | string, extra: Record<string, unknown> = {}) => ({ email: `contact${n}@example.com`, leadmesh_lead_id: `lead-${n}`, ...extra });

describe('HubSpot adapter against the CRM simulator', () => {
  it("makes a contact a member of the campaign's list once, and names a list HubSpot does not have", async () => {
    const crm = hubspotAdapter(sim);
    const { crmId } = await crm.upsertLead('lead-1', contact(1));
    expect(await crm.addCampaignMember(crmId, '3101', 'Responded')).toEqual({ already: false });
    expect(await crm.addCampaignMember(crmId, '3101', 'Responded')).toEqual({ already: true });
    expect(sim.campaignMembers('hubspot')).toEqual([{ CampaignId: '3101', LeadId: crmId }]);
    sim.seedCampaigns('hubspot', ['3101']);
    const err = await caught(crm.addCampaignMember(crmId, '3999', 'Responded'));
    expect(err).toBeInstanceOf(CrmValidationError);
    expect(err).toMatchObject({ code: 'OBJECT_NOT_FOUND', status: 404 });
    expect(await caught(crm.addCampaignMember('999999', '3101', 'Responded'))).toMatchObject({ code: 'RECORD_MISSING' });
  });

  it('upserts by email: one contact across updates, whatever the email’s case', async () => {
    const crm = hubspotAdapter(sim);
    const first = await crm.upsertLead('lead-1', contact(1, { leadmesh_grade: 'C2', leadmesh_fit_score: 40 }));
    const second = await crm.upsertLead('lead-1', { ...contact(1), email: 'Contact1@Example.com', leadmesh_grade: 'B1' });
    const third = await crm.upsertLead('lead-1', contact(1, { leadmesh_grade: 'A1' }));

    expect(first.created).toBe(true);
    expect(second).toEqual({ crmId: first.crmId, created: false });
    expect(third).toEqual({ crmId: first.crmId, created: false });
    const records = sim.records('hubspot');
    expect(records).toHaveLength(1);
    expect(records[0]?.properties).toMatchObject({ email: 'contact1@example.com', leadmesh_grade: 'A1', leadmesh_fit_score: '40' });
    const auth = sim.requests().every((r) => r.path === '/crm/v3/objects/contacts/batch/upsert' && r.status === 200);
    expect(auth).toBe(true);
  });

  it('keeps under the 10-second burst limit (scaled down) for concurrent callers', async () => {
    // The simulator's window is much shorter than the adapter's (200 against 500 ms) so jitter under a loaded test
    // run cannot bunch two windows together; without the adapter's limiter the 6th request would 429.
    sim.setFaults({ hubspotBurst: { max: 5, windowMs: 200 } });
    const crm = hubspotAdapter(sim, { burstLimit: 5, burstWindowMs: 500 });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => crm.upsertLead(`lead-${i}`, contact(i))));

    expect(results.every((r) => r.created)).toBe(true);
    expect(sim.requests().filter((r) => r.status === 429)).toHaveLength(0);
    expect(sim.requests()).toHaveLength(12);
    // 12 requests at 5 per 500 ms need two full windows.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('pauses the whole adapter for Retry-After on a 429', async () => {
    const events: CrmAdapterEvent[] = [];
    const crm = hubspotAdapter(sim, {}, events);
    sim.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 1 } });
    const first = crm.upsertLead('lead-1', contact(1));
    // Once the adapter has seen the 429, requests that were not sent yet must wait too.
    await until(() => events.some((e) => e.type === 'rate-limited'));
    const limitedAt = sim.requests().find((r) => r.status === 429)?.at ?? 0;
    const others = Promise.all([crm.upsertLead('lead-2', contact(2)), crm.upsertLead('lead-3', contact(3))]);
    await Promise.all([first, others]);

    const after = sim.requests().filter((r) => r.status === 200);
    expect(after).toHaveLength(3);
    for (const request of after) expect(request.at - limitedAt).toBeGreaterThanOrEqual(990);
    expect(sim.records('hubspot')).toHaveLength(3);
  });

  it('hands a Retry-After longer than it may wait back to the caller as CrmRateLimitedError', async () => {
    const crm = hubspotAdapter(sim, { resilience: { ...fastResilience, rateLimitMaxWaitMs: 500 } });
    sim.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 2 } });
    const err = await caught(crm.upsertLead('lead-1', contact(1)));
    expect(err).toBeInstanceOf(CrmRateLimitedError);
    expect(err).toMatchObject({ retryAfterMs: 2_000, code: 'TEN_SECONDLY_ROLLING' });
  });

  it('stops at the daily limit without calling HubSpot, until midnight', async () => {
    const crm = hubspotAdapter(sim, { dailyLimit: 2 });
    await crm.upsertLead('lead-1', contact(1));
    await crm.upsertLead('lead-2', contact(2));
    const err = await caught(crm.upsertLead('lead-3', contact(3)));
    expect(err).toBeInstanceOf(CrmRateLimitedError);
    const wait = (err as CrmRateLimitedError).retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(24 * 3600_000);
    expect(sim.requests()).toHaveLength(2);
  });

  it('batches a backlog and isolates the one contact HubSpot refuses, with HubSpot’s message', async () => {
    const crm = hubspotAdapter(sim);
    const batch = Array.from({ length: 30 }, (_, i) => ({ leadId: `lead-${i}`, fields: i === 12 ? contact(i, { email: 'not-an-email' }) : contact(i) }));
    const results = await crm.upsertLeads(batch);

    expect(results.map((r) => r.leadId)).toEqual(batch.map((b) => b.leadId));
    expect(results.filter((r) => r.crmId && r.created)).toHaveLength(29);
    expect(results[12]?.error).toBeInstanceOf(CrmValidationError);
    expect(results[12]?.error?.message).toContain('Email address not-an-email is invalid');
    expect(results[12]?.error?.code).toBe('VALIDATION_ERROR');
    expect(sim.records('hubspot')).toHaveLength(29);
  });

  it('retries 503s, and reports a wrong token as transient rather than dead-lettering the lead', async () => {
    sim.setFaults({ status5xxBurst: 2 });
    await expect(hubspotAdapter(sim).upsertLead('lead-1', contact(1))).resolves.toMatchObject({ created: true });
    const err = await caught(hubspotAdapter(sim, { token: 'wrong' }).upsertLead('lead-2', contact(2)));
    expect(err).toBeInstanceOf(CrmUnavailableError);
    expect(err).toMatchObject({ status: 401, transient: true });
  });

  it('deletes a contact by its id or finds it by lead id, and deleting twice is fine', async () => {
    const crm = hubspotAdapter(sim);
    const one = await crm.upsertLead('lead-1', contact(1));
    await crm.upsertLead('lead-2', contact(2));
    await crm.deleteLead('lead-1', one.crmId);
    await crm.deleteLead('lead-2');
    await crm.deleteLead('lead-2');
    expect(sim.records('hubspot')).toHaveLength(0);
    // For good (GDPR delete), not archived as a DELETE would leave them.
    expect(sim.deleted('hubspot')).toHaveLength(0);
    expect(sim.requests().some((r) => r.method === 'DELETE')).toBe(false);
  });
});
