import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { CrmConflictError, CrmConvertedError, CrmUnavailableError, CrmValidationError } from '../src/crm/crm-port.js';
import type { CrmAdapterEvent } from '../src/crm/resilience.js';
import { caught, fastResilience, salesforceAdapter, salesforceLead, startSimulator, until } from './support.js';

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const patches = () => sim.requests().filter((r) => r.method === 'PATCH');

describe('Salesforce adapter against the CRM simulator', () => {
  it('caches the OAuth token and renews it once when the session expires', async () => {
    const crm = salesforceAdapter(sim);
    await crm.upsertLead('tok-1', salesforceLead(1));
    await crm.upsertLead('tok-2', salesforceLead(2));
    expect(sim.counters().salesforceTokensIssued).toBe(1);

    sim.expireSalesforceSessions();
    await crm.upsertLead('tok-3', salesforceLead(3));
    expect(sim.counters().salesforceTokensIssued).toBe(2);
    expect(sim.requests().filter((r) => r.status === 401)).toHaveLength(1);
    expect(sim.records('salesforce')).toHaveLength(3);
  });

  it('creates the lead once and updates the same record afterwards (201, then 200)', async () => {
    const crm = salesforceAdapter(sim);
    const first = await crm.upsertLead('lead-1', salesforceLead(1, { Lead_Grade__c: 'B3' }));
    const second = await crm.upsertLead('lead-1', salesforceLead(1, { Lead_Grade__c: 'A1' }));
    const third = await crm.upsertLead('lead-1', salesforceLead(1, { Lead_Grade__c: 'A2' }));

    expect(first.created).toBe(true);
    expect(second).toEqual({ crmId: first.crmId, created: false });
    expect(third).toEqual({ crmId: first.crmId, created: false });
    expect(patches().map((r) => r.status)).toEqual([201, 200, 200]);
    expect(patches().map((r) => r.autoAssign)).toEqual(['TRUE', 'TRUE', 'TRUE']);
    await salesforceAdapter(sim, { autoAssign: false }).upsertLead('lead-1', salesforceLead(1));
    expect(patches().at(-1)?.autoAssign).toBe('FALSE');
    const records = sim.records('salesforce');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ Id: first.crmId, Leadmesh_Lead_Id__c: 'lead-1', Lead_Grade__c: 'A2' });
  });

  it('sets the record owner from OwnerId, moves it on the next write, and refuses an id that is not a user as Salesforce does', async () => {
    const crm = salesforceAdapter(sim, { autoAssign: false });
    await crm.upsertLead('own-1', salesforceLead(1));
    // Without OwnerId the running (API) user owns a new record, as in a real org.
    expect(sim.records('salesforce')[0]?.OwnerId).toMatch(/^005/);
    await crm.upsertLead('own-1', salesforceLead(1, { OwnerId: '005Dn00000LMO01AAA' }));
    expect(sim.records('salesforce')[0]?.OwnerId).toBe('005Dn00000LMO01AAA');
    await crm.upsertLead('own-1', salesforceLead(1, { OwnerId: '005Dn00000LMO02AAA' }));
    expect(sim.records('salesforce')[0]?.OwnerId).toBe('005Dn00000LMO02AAA');
    const err = await caught(crm.upsertLead('own-1', salesforceLead(1, { OwnerId: 'avery-chen' })));
    expect(err).toBeInstanceOf(CrmValidationError);
    expect(err).toMatchObject({ code: 'FIELD_INTEGRITY_EXCEPTION', fields: ['OwnerId'] });
    expect(sim.records('salesforce')[0]?.OwnerId).toBe('005Dn00000LMO02AAA');
  });

  it('makes a lead a CampaignMember once: the second time Salesforce answers DUPLICATE_VALUE, which is success', async () => {
    const crm = salesforceAdapter(sim);
    const { crmId } = await crm.upsertLead('camp-1', salesforceLead(1));
    const first = await crm.addCampaignMember(crmId, '701Dn00000SPRNGAAA', 'Responded');
    expect(first).toEqual({ memberId: expect.stringMatching(/^00v/), already: false });
    expect(await crm.addCampaignMember(crmId, '701Dn00000SPRNGAAA', 'Responded')).toEqual({ already: true });
    expect(sim.campaignMembers('salesforce')).toEqual([{ Id: first.memberId, CampaignId: '701Dn00000SPRNGAAA', LeadId: crmId, Status: 'Responded' }]);
    sim.seedCampaigns('salesforce', ['701Dn00000SPRNGAAA']);
    const err = await caught(crm.addCampaignMember(crmId, '701Dn00000WEBQ4AAA', 'Responded'));
    expect(err).toBeInstanceOf(CrmValidationError);
    expect(err).toMatchObject({ code: 'INVALID_CROSS_REFERENCE_KEY', fields: ['CampaignId'] });
  });

  it('names a converted Lead as such, finds its Contact, and updates the Contact instead', async () => {
    const crm = salesforceAdapter(sim);
    const { crmId } = await crm.upsertLead('conv-1', salesforceLead(1, { Title: 'CTO' }));
    expect(await crm.convertedTo(crmId)).toBeUndefined();
    const contactId = sim.convertSalesforceLead(crmId);
    const err = await caught(crm.upsertLead('conv-1', salesforceLead(1, { Title: 'CEO' })));
    expect(err).toBeInstanceOf(CrmConvertedError);
    expect(err).toMatchObject({ code: 'CANNOT_UPDATE_CONVERTED_LEAD', transient: false });
    // In a batch too, per record.
    const [batched] = await crm.upsertLeads([{ leadId: 'conv-1', fields: salesforceLead(1) }, { leadId: 'conv-2', fields: salesforceLead(2) }]);
    expect(batched?.error).toBeInstanceOf(CrmConvertedError);
    expect(await crm.convertedTo(crmId)).toEqual({ contactId });
    await crm.updateContact(contactId, { Title: 'CEO', HasOptedOutOfEmail: true });
    expect(sim.salesforceContacts()).toEqual([expect.objectContaining({ Id: contactId, Title: 'CEO', HasOptedOutOfEmail: true })]);
    // Never a second Lead for the converted one.
    expect(sim.records('salesforce').filter((l) => l.Leadmesh_Lead_Id__c === 'conv-1')).toHaveLength(1);
  });

  it('reports several matches for one external id as a conflict, without retrying', async () => {
    sim.seedSalesforceLeads([salesforceLead(1, { Leadmesh_Lead_Id__c: 'dup-1' }), salesforceLead(2, { Leadmesh_Lead_Id__c: 'dup-1' })]);
    const crm = salesforceAdapter(sim);
    const err = await caught(crm.upsertLead('dup-1', salesforceLead(1)));
    expect(err).toBeInstanceOf(CrmConflictError);
    expect((err as CrmConflictError).matches).toHaveLength(2);
    expect(patches()).toHaveLength(1);
  });

  it('turns a validation error into CrmValidationError with Salesforce’s own message, not retried', async () => {
    const crm = salesforceAdapter(sim);
    const err = await caught(crm.upsertLead('bad-1', { Email: 'x@example.com' }));
    expect(err).toBeInstanceOf(CrmValidationError);
    expect(err).toMatchObject({ code: 'REQUIRED_FIELD_MISSING', status: 400, fields: ['LastName', 'Company'], transient: false });
    expect((err as Error).message).toContain('Required fields are missing: [LastName, Company]');

    sim.setFaults({ rejectField: 'Title' });
    const rejected = await caught(crm.upsertLead('bad-2', salesforceLead(2, { Title: 'CTO' })));
    expect(rejected).toMatchObject({ code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: ['Title'] });
    expect(patches()).toHaveLength(2);
  });

  it('retries a burst of 503s with backoff and then succeeds', async () => {
    const events: CrmAdapterEvent[] = [];
    const crm = salesforceAdapter(sim, {}, events);
    await crm.upsertLead('warm', salesforceLead(0));
    sim.setFaults({ status5xxBurst: 2 });
    const result = await crm.upsertLead('burst-1', salesforceLead(1));
    expect(result.created).toBe(true);
    expect(patches().map((r) => r.status)).toEqual([201, 503, 503, 201]);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });

  it('gives up on a CRM slower than the request timeout with a transient TIMEOUT error', async () => {
    const crm = salesforceAdapter(sim, { resilience: { ...fastResilience, requestTimeoutMs: 100, retryMaxAttempts: 2 } });
    await crm.upsertLead('warm', salesforceLead(0));
    sim.setFaults({ latencyMs: 300 });
    const err = await caught(crm.upsertLead('slow-1', salesforceLead(1)));
    expect(err).toBeInstanceOf(CrmUnavailableError);
    expect(err).toMatchObject({ code: 'TIMEOUT', transient: true });
  });

  it('opens the breaker during an outage, fails fast while open, and closes after recovery', async () => {
    const crm = salesforceAdapter(sim, {
      resilience: { ...fastResilience, retryMaxAttempts: 2, breakerThreshold: 3, breakerHalfOpenAfterMs: 300 },
    });
    await crm.upsertLead('warm', salesforceLead(0));
    sim.setFaults({ outage: true });
    for (const id of ['out-1', 'out-2']) {
      expect(await caught(crm.upsertLead(id, salesforceLead(id)))).toBeInstanceOf(CrmUnavailableError);
    }
    expect(crm.breakerState).toBe('open');

    const seen = sim.counters().requests;
    const started = Date.now();
    const fast = await caught(crm.upsertLead('out-3', salesforceLead(3)));
    expect(fast).toMatchObject({ breakerOpen: true, transient: true });
    expect(Date.now() - started).toBeLessThan(100);
    expect(sim.counters().requests).toBe(seen);

    sim.setFaults({ outage: false });
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expect(crm.upsertLead('out-3', salesforceLead(3))).resolves.toMatchObject({ created: true });
    expect(crm.breakerState).toBe('closed');
  });

  it('pauses the whole adapter on REQUEST_LIMIT_EXCEEDED, including requests that had not been sent yet', async () => {
    const events: CrmAdapterEvent[] = [];
    const crm = salesforceAdapter(sim, {}, events); // no Retry-After from Salesforce: the configured 800 ms pause applies
    await crm.upsertLead('warm', salesforceLead(0));
    sim.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 1 } });

    const first = crm.upsertLead('rl-1', salesforceLead(1));
    // Once the adapter has seen the refusal, requests that were not sent yet must wait too.
    await until(() => events.some((e) => e.type === 'rate-limited'));
    const limitedAt = sim.requests().find((r) => r.status === 403)?.at ?? 0;
    const startedOthers = Date.now();
    const others = Promise.all([crm.upsertLead('rl-2', salesforceLead(2)), crm.upsertLead('rl-3', salesforceLead(3))]);

    await Promise.all([first, others]);
    expect(Date.now() - startedOthers).toBeGreaterThanOrEqual(700);
    const after = sim.requests().filter((r) => r.at > limitedAt - 1 && r.status !== 403);
    expect(after).toHaveLength(3);
    for (const request of after) expect(request.at - limitedAt).toBeGreaterThanOrEqual(790);
    expect(sim.records('salesforce')).toHaveLength(4);
  });

  it('upserts a backlog of 200 through one sObject Collections call with per-record results', async () => {
    const crm = salesforceAdapter(sim);
    const batch = Array.from({ length: 200 }, (_, i) => ({
      leadId: `batch-${i}`,
      fields: i === 57 ? { Email: 'no-name@example.com' } : salesforceLead(i),
    }));
    const results = await crm.upsertLeads(batch);

    expect(patches().filter((r) => r.path.includes('/composite/sobjects/Lead/Leadmesh_Lead_Id__c'))).toHaveLength(1);
    expect(results).toHaveLength(200);
    expect(results.map((r) => r.leadId)).toEqual(batch.map((b) => b.leadId));
    expect(results.filter((r) => r.created === true)).toHaveLength(199);
    expect(results[57]?.error).toBeInstanceOf(CrmValidationError);
    expect(results[57]?.error).toMatchObject({ code: 'REQUIRED_FIELD_MISSING', fields: ['LastName', 'Company'] });
    expect(new Set(results.map((r) => r.crmId).filter(Boolean)).size).toBe(199);

    const again = await crm.upsertLeads(batch.filter((_, i) => i !== 57));
    expect(again.every((r, i) => r.created === false && r.crmId === results[i < 57 ? i : i + 1]?.crmId)).toBe(true);
    expect(sim.records('salesforce')).toHaveLength(199);
  });

  it('splits a larger backlog into calls of at most 200 and deletes leads idempotently', async () => {
    const crm = salesforceAdapter(sim);
    const results = await crm.upsertLeads(Array.from({ length: 201 }, (_, i) => ({ leadId: `big-${i}`, fields: salesforceLead(i) })));
    expect(results.every((r) => r.crmId)).toBe(true);
    expect(patches()).toHaveLength(2);

    await crm.deleteLead('big-0');
    await crm.deleteLead('big-1', results[1]?.crmId);
    await crm.deleteLead('big-0');
    expect(sim.records('salesforce')).toHaveLength(199);
    // For good: a hardDelete job, not the Recycle Bin a DELETE leaves the Lead in.
    expect(sim.deleted('salesforce')).toEqual([]);
  });

  it('erases every Lead of the lead: the one crm-sync knows and one a late write made after a plain delete', async () => {
    const crm = salesforceAdapter(sim);
    const first = await crm.upsertLead('lead-x', salesforceLead('x'));
    // Someone deleted the Lead the ordinary way (to the Recycle Bin), then a late upsert made a new one.
    expect(await deleteToRecycleBin(first.crmId)).toBe(204);
    expect(sim.deleted('salesforce')).toHaveLength(1);
    const second = await crm.upsertLead('lead-x', salesforceLead('x'));
    expect(second.crmId).not.toBe(first.crmId);

    await crm.deleteLead('lead-x', first.crmId);
    expect(sim.records('salesforce')).toEqual([]);
    expect(sim.deleted('salesforce')).toEqual([]);
  });

  it('waits for the hardDelete job, and a job Salesforce has not processed in time is a transient failure (the erasure is tried again)', async () => {
    const crm = salesforceAdapter(sim, { hardDeleteMaxWaitMs: 300, hardDeletePollMs: 20 });
    await crm.upsertLead('lead-y', salesforceLead('y'));
    // A fetch that answers Get Job Info "InProgress" for ever, everything else from the simulator.
    const slow = salesforceAdapter(sim, {
      hardDeleteMaxWaitMs: 300,
      hardDeletePollMs: 20,
      fetch: async (input, init) => {
        const url = String(input);
        if ((init?.method ?? 'GET') === 'GET' && /\/jobs\/ingest\/[^/]+$/.test(url)) {
          return new Response(JSON.stringify({ id: url.split('/').at(-1), state: 'InProgress' }), { status: 200, headers: { 'content-type': 'application/json' } });
        }
        return fetch(input, init);
      },
    });
    const err = await caught(slow.deleteLead('lead-y'));
    expect(err).toBeInstanceOf(CrmUnavailableError);
    expect(err).toMatchObject({ code: 'BULK_JOB_PENDING', transient: true });
    // Tried again, the lead (hard deleted by the job the simulator did process) is simply gone.
    await crm.deleteLead('lead-y');
    expect(sim.records('salesforce')).toEqual([]);
    expect(sim.deleted('salesforce')).toEqual([]);
  });
});

/** A plain REST DELETE of a Lead by id, as a user or another integration makes it. */
async function deleteToRecycleBin(id: string): Promise<number> {
  const token = (await (await fetch(`${sim.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=sim-client-id&client_secret=sim-client-secret' })).json()) as { access_token: string };
  return (await fetch(`${sim.url}/services/data/v62.0/sobjects/Lead/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token.access_token}` } })).status;
}
