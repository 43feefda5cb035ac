// The CRM simulator and the adapters against examples from the vendors' own documentation
// (test/fixtures/crm-vendor-examples, each naming its source page): the simulator answers in the
// documented shape, and an adapter given the documented answer reads it as the documentation means.
import { readFileSync } from 'node:fs';
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { CrmValidationError } from '../src/crm/crm-port.js';
import { caught, hubspotAdapter, salesforceAdapter, startSimulator } from './support.js';

interface VendorExample {
  source: string;
  title: string;
  request?: { method: string; path: string; body?: unknown };
  response: { status: number; headers?: Record<string, string>; body: unknown };
}

const example = (name: string): VendorExample =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/crm-vendor-examples/${name}.json`, import.meta.url), 'utf8')) as VendorExample;

/** The shape of a JSON value: object keys with their shapes, an array's first item, a scalar's type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

/** A fetch that answers every request with the documented response, so the adapter reads exactly it. */
const answering = (doc: VendorExample): typeof fetch => async () =>
  new Response(JSON.stringify(doc.response.body), { status: doc.response.status, headers: { 'content-type': 'application/json;charset=UTF-8', ...doc.response.headers } });

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

describe('vendor examples', () => {
  it('every example names a vendor documentation page', () => {
    for (const name of ['hubspot-error-response', 'hubspot-list-memberships-add', 'hubspot-gdpr-delete', 'salesforce-upsert-created', 'salesforce-upsert-unknown-external-id-field', 'salesforce-bulk-hard-delete-job']) {
      expect(example(name).source).toMatch(/^https:\/\/(developers\.hubspot\.com|developer\.salesforce\.com)\//);
    }
  });

  it("HubSpot's error body: the simulator's validation error carries the documented fields (status, message, category, correlationId as a UUID)", async () => {
    const doc = example('hubspot-error-response');
    const answer = await fetch(`${sim.url}/crm/v3/objects/contacts/batch/upsert`, {
      method: 'POST',
      headers: { authorization: 'Bearer sim-hubspot-token', 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ idProperty: 'email', id: 'not-an-email', properties: {} }] }),
    });
    const body = (await answer.json()) as Record<string, unknown>;
    expect(answer.status).toBe(doc.response.status);
    const documented = doc.response.body as Record<string, unknown>;
    for (const key of ['status', 'message', 'category', 'correlationId']) expect(shape(body[key])).toEqual(shape(documented[key]));
    expect(body.category).toBe(documented.category);
    expect(body.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("HubSpot's error body: the adapter reads the documented answer as a validation error with its category", async () => {
    const doc = example('hubspot-error-response');
    const crm = hubspotAdapter(sim, { fetch: answering(doc) });
    const err = await caught(crm.upsertLead('lead-1', { email: 'ada@example.com' }));
    expect(err).toBeInstanceOf(CrmValidationError);
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, message: expect.stringContaining('human readable message') });
  });

  it('HubSpot list membership: the simulator answers with the documented keys, and the adapter reads the documented answer', async () => {
    const doc = example('hubspot-list-memberships-add');
    const { crmId } = await hubspotAdapter(sim).upsertLead('lead-1', { email: 'ada@example.com' });
    const answer = await fetch(`${sim.url}/crm/v3/lists/3101/memberships/add`, {
      method: 'PUT',
      headers: { authorization: 'Bearer sim-hubspot-token', 'content-type': 'application/json' },
      body: JSON.stringify([crmId]),
    });
    expect(answer.status).toBe(doc.response.status);
    const body = await answer.json();
    expect(Object.keys(body as object).sort()).toEqual(Object.keys(doc.response.body as object).sort());
    expect(body).toEqual({ recordIdsMissing: [], recordIdsRemoved: [], recordsIdsAdded: [crmId] });
    // The documented answer names a record other than ours as added: ours was a member already.
    expect(await hubspotAdapter(sim, { fetch: answering(doc) }).addCampaignMember('777', '3101', 'Responded')).toEqual({ already: true });
    const ours = { ...doc, response: { ...doc.response, body: { recordIdsMissing: [], recordIdsRemoved: [], recordsIdsAdded: ['777'] } } };
    expect(await hubspotAdapter(sim, { fetch: answering(ours) }).addCampaignMember('777', '3101', 'Responded')).toEqual({ already: false });
  });

  it("Salesforce upsert of a new record: the simulator's 201 carries the documented fields, and the adapter reads the documented answer", async () => {
    const doc = example('salesforce-upsert-created');
    const created = await salesforceAdapter(sim).upsertLead('lead-1', { LastName: 'Lovelace', Company: 'Analytical Engines' });
    const answer = sim.requests().find((r) => r.method === 'PATCH');
    expect(answer?.status).toBe(doc.response.status);
    expect(created.created).toBe(true);
    const body = await rawSalesforce('PATCH', '/services/data/v62.0/sobjects/Lead/Leadmesh_Lead_Id__c/lead-2', { LastName: 'Hopper', Company: 'Navy' });
    expect(body.status).toBe(201);
    for (const [key, value] of Object.entries(doc.response.body as object)) expect(shape((body.json as Record<string, unknown>)[key])).toEqual(shape(value));
    expect(await salesforceAdapter(sim, { fetch: answeringAfterToken(doc) }).upsertLead('lead-3', { LastName: 'X', Company: 'Y' })).toEqual({ crmId: '00190000001pPvHAAU', created: true });
  });

  it('Salesforce upsert by a field that is not an external id: NOT_FOUND from the simulator as documented, and a refusal naming the code from the adapter', async () => {
    const doc = example('salesforce-upsert-unknown-external-id-field');
    const body = await rawSalesforce('PATCH', '/services/data/v62.0/sobjects/Lead/notAnExternalIdField__c/11999', { LastName: 'Hopper', Company: 'Navy' });
    expect(body.status).toBe(doc.response.status);
    // The live API's array of the documented error object.
    expect(body.json).toEqual([doc.response.body]);
    const err = await caught(salesforceAdapter(sim, { fetch: answeringAfterToken(doc) }).upsertLead('lead-3', { LastName: 'X', Company: 'Y' }));
    expect(err).toBeInstanceOf(CrmValidationError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });
});

describe('vendor examples of permanent deletion', () => {
  it("HubSpot's GDPR delete: the simulator takes the documented request and answers 204, the contact gone for good (not archived), and the adapter erases with it", async () => {
    const doc = example('hubspot-gdpr-delete');
    const crm = hubspotAdapter(sim);
    const { crmId } = await crm.upsertLead('lead-1', { email: 'ada@example.com', leadmesh_lead_id: 'lead-1' });
    const answer = await fetch(`${sim.url}${doc.request!.path}`, {
      method: doc.request!.method,
      headers: { authorization: 'Bearer sim-hubspot-token', 'content-type': 'application/json' },
      body: JSON.stringify({ objectId: crmId }),
    });
    expect(answer.status).toBe(doc.response.status);
    expect(await answer.text()).toBe('');
    expect(sim.records('hubspot')).toEqual([]);
    expect(sim.deleted('hubspot')).toEqual([]);

    // The adapter's erasure goes through the same door: nothing archived, nothing left.
    const again = await crm.upsertLead('lead-2', { email: 'grace@example.com', leadmesh_lead_id: 'lead-2' });
    await crm.deleteLead('lead-2', again.crmId);
    expect(sim.requests().filter((r) => r.path === doc.request!.path && r.status === 204)).toHaveLength(2);
    expect(sim.records('hubspot')).toEqual([]);
    expect(sim.deleted('hubspot')).toEqual([]);
    // The documented answer (204, no body) is a success to the adapter.
    await expect(hubspotAdapter(sim, { fetch: answeringGdprDelete(doc) }).deleteLead('lead-3', '999')).resolves.toBeUndefined();
  });

  it("Salesforce hardDelete: the simulator's new job carries the documented properties, and the adapter's erasure leaves nothing in the Recycle Bin", async () => {
    const doc = example('salesforce-bulk-hard-delete-job');
    const created = await rawSalesforce('POST', '/services/data/v62.0/jobs/ingest', doc.request!.body);
    expect(created.status).toBe(doc.response.status);
    const documented = doc.response.body as Record<string, unknown>;
    for (const [key, value] of Object.entries(documented)) expect(shape((created.json as Record<string, unknown>)[key])).toEqual(shape(value));
    expect(created.json).toMatchObject({ state: 'Open', operation: 'hardDelete', object: 'Lead' });

    const crm = salesforceAdapter(sim);
    const { crmId } = await crm.upsertLead('lead-1', { LastName: 'Lovelace', Company: 'Analytical Engines' });
    await crm.deleteLead('lead-1', crmId);
    expect(sim.records('salesforce')).toEqual([]);
    expect(sim.deleted('salesforce')).toEqual([]);
    const paths = sim.requests().map((r) => `${r.method} ${r.path.replace(/750[A-Z0-9]+/, '{jobId}')} ${r.status}`);
    expect(paths).toEqual(expect.arrayContaining([
      'POST /services/data/v62.0/jobs/ingest 200',
      'PUT /services/data/v62.0/jobs/ingest/{jobId}/batches 201',
      'PATCH /services/data/v62.0/jobs/ingest/{jobId} 200',
      'GET /services/data/v62.0/jobs/ingest/{jobId} 200',
    ]));
    // No DELETE of the record: that is the Recycle Bin.
    expect(sim.requests().some((r) => r.method === 'DELETE' && r.path.includes('/sobjects/Lead/'))).toBe(false);
  });
});

/** HubSpot's documented GDPR delete answer (204, no body); the search before it answers no contact. */
const answeringGdprDelete = (doc: VendorExample): typeof fetch => async (input) =>
  String(input).endsWith('/search') ? new Response(JSON.stringify({ total: 0, results: [] }), { status: 200, headers: { 'content-type': 'application/json' } }) : new Response(null, { status: doc.response.status });

/** A call to the simulated Salesforce with a fresh session, answered as it is. */
async function rawSalesforce(method: string, path: string, payload: unknown): Promise<{ status: number; json: unknown }> {
  const token = (await (await fetch(`${sim.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=sim-client-id&client_secret=sim-client-secret' })).json()) as { access_token: string };
  const response = await fetch(`${sim.url}${path}`, { method, headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  return { status: response.status, json: await response.json() };
}

/** The token request goes to the simulator; every other request is answered with the documented response. */
const answeringAfterToken = (doc: VendorExample): typeof fetch => async (input, init) =>
  String(input).endsWith('/services/oauth2/token') ? fetch(input, init) : answering(doc)(input, init);
