// Changes that flow back, at the CRM's door: the adapters find what the CRM modified after a
// watermark (Salesforce SOQL on SystemModstamp, HubSpot search on lastmodifieddate) in the CRM
// simulator (a test fixture), and the simulator's webhooks carry a v3 signature crm-sync accepts.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { verifyHubspotSignatureV3 } from '../src/domain/hubspot-signature.js';
import { editAsSales } from './stack-support.js';
import { hubspotAdapter, salesforceAdapter, salesforceLead, startSimulator, until } from './support.js';

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Salesforce: Leads modified since a watermark (SOQL on SystemModstamp)', () => {
  it('answers the Leads stamped at or after the watermark, oldest first, with our lead id, the asked fields and the stamp', async () => {
    const crm = salesforceAdapter(sim);
    const before = new Date(Date.now() - 1000);
    const first = await crm.upsertLead('lead-1', { ...salesforceLead(1), OwnerId: '005000000000010AAA', Status: 'Open - Not Contacted' });
    await crm.upsertLead('lead-2', salesforceLead(2));
    const changed = await crm.changedSince(before, ['OwnerId', 'Status'], 100);
    expect(changed.map((c) => c.leadId)).toEqual(['lead-1', 'lead-2']);
    expect(changed[0]).toEqual({ crmId: first.crmId, leadId: 'lead-1', values: { OwnerId: '005000000000010AAA', Status: 'Open - Not Contacted' }, modifiedAt: expect.any(Date) });
    expect(changed[0]!.modifiedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());

    await editAsSales(sim, 'salesforce', first.crmId, { OwnerId: '005000000000011AAA' });
    const after = await crm.changedSince(new Date(Date.now() + 2000), ['OwnerId'], 100);
    expect(after).toEqual([]);
    const edited = (await crm.changedSince(changed[1]!.modifiedAt, ['OwnerId'], 100)).find((c) => c.crmId === first.crmId);
    expect(edited?.values).toEqual({ OwnerId: '005000000000011AAA' });
  });

  it('reads one Lead as it is now for a change named by id', async () => {
    const crm = salesforceAdapter(sim);
    const { crmId } = await crm.upsertLead('lead-3', { ...salesforceLead(3), Status: 'Accepted' });
    await expect(crm.readChanged(crmId, ['Status'])).resolves.toEqual({ crmId, leadId: 'lead-3', values: { Status: 'Accepted' }, modifiedAt: expect.any(Date) });
  });

  it('the simulator refuses SOQL it does not understand as Salesforce does, and a quoted dateTime', async () => {
    const token = (await (await fetch(`${sim.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=sim-client-id&client_secret=sim-client-secret' })).json()) as { access_token: string };
    const ask = (q: string) => fetch(`${sim.url}/services/data/v62.0/query?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${token.access_token}` } }).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(await ask('SELEC Id FROM Lead')).toEqual({ status: 400, body: [expect.objectContaining({ errorCode: 'MALFORMED_QUERY' })] });
    expect(await ask("SELECT Id FROM Lead WHERE SystemModstamp > '2026-11-27T10:00:00Z'")).toEqual({ status: 400, body: [expect.objectContaining({ errorCode: 'INVALID_QUERY_FILTER_OPERATOR' })] });
    expect(await ask('SELECT Id FROM Lead WHERE SystemModstamp > 2026-11-27T10:00:00Z')).toEqual({ status: 200, body: { totalSize: 0, done: true, records: [] } });
  });
});

describe('HubSpot: contacts modified since a watermark (search on lastmodifieddate)', () => {
  it('answers the contacts modified at or after the watermark, oldest first, at most as many as asked', async () => {
    const crm = hubspotAdapter(sim);
    const before = new Date(Date.now() - 1000);
    for (let i = 0; i < 3; i++) {
      await crm.upsertLead(`lead-${i}`, { email: `ada.${i}@example.com`, leadmesh_lead_id: `lead-${i}`, hubspot_owner_id: '81234567', hs_lead_status: 'NEW' });
      await pause();
    }
    const changed = await crm.changedSince(before, ['hubspot_owner_id', 'hs_lead_status'], 100);
    expect(changed.map((c) => c.leadId)).toEqual(['lead-0', 'lead-1', 'lead-2']);
    expect(changed[0]).toEqual({ crmId: expect.stringMatching(/^\d+$/), leadId: 'lead-0', values: { hubspot_owner_id: '81234567', hs_lead_status: 'NEW' }, modifiedAt: expect.any(Date) });
    await editAsSales(sim, 'hubspot', changed[0]!.crmId, { hs_lead_status: 'IN_PROGRESS' });
    const since = await crm.changedSince(changed[2]!.modifiedAt, ['hs_lead_status'], 100);
    expect(since.map((c) => [c.leadId, c.values.hs_lead_status])).toEqual([['lead-2', 'NEW'], ['lead-0', 'IN_PROGRESS']]);
    expect((await crm.changedSince(before, ['hs_lead_status'], 2)).length).toBe(2);
  });
});

describe('HubSpot webhooks from the simulator', () => {
  it("send a rep's property change as contact.propertyChange with a v3 signature that crm-sync's check accepts", async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string; url: string }> = [];
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body, url: req.url ?? '' });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    try {
      const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/v1/hubspot/webhooks`;
      sim.subscribeHubspotWebhooks({ targetUrl, clientSecret: 'app-secret', properties: ['hubspot_owner_id'] });
      const crm = hubspotAdapter(sim);
      const { crmId } = await crm.upsertLead('lead-9', { email: 'ada.9@example.com', leadmesh_lead_id: 'lead-9' });
      await editAsSales(sim, 'hubspot', crmId, { hubspot_owner_id: '81234568', company: 'Not subscribed' });
      await until(() => received.length > 0);
      const [call] = received;
      expect(JSON.parse(call!.body)).toEqual([
        expect.objectContaining({ subscriptionType: 'contact.propertyChange', objectId: Number(crmId), propertyName: 'hubspot_owner_id', propertyValue: '81234568', changeSource: 'CRM_UI', attemptNumber: 0 }),
      ]);
      const request = { method: 'POST', uri: targetUrl, body: call!.body, signature: call!.headers['x-hubspot-signature-v3'] as string, timestamp: call!.headers['x-hubspot-request-timestamp'] as string };
      expect(verifyHubspotSignatureV3('app-secret', request, new Date())).toEqual({ ok: true });
      expect(verifyHubspotSignatureV3('another-secret', request, new Date())).toEqual({ ok: false, reason: 'mismatch' });
      await until(() => sim.hubspotWebhookDeliveries().length === 1);
      expect(sim.hubspotWebhookDeliveries()[0]?.status).toBe(204);
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
