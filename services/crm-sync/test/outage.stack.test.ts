// A CRM outage and then a rate-limit storm while leads keep coming: the JetStream backlog holds them,
// the breaker stops crm-sync hammering the CRM, and after recovery every lead is in the CRM exactly once.
import { crmsync } from '@leadmesh/contracts';
import { eventually, recordsOf, startCrmStack, submitLead, type CrmStack } from './stack-support.js';

let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack('crm-sync-outage', 310);
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

const OUTAGE_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crm-sync through a CRM outage and a 429 storm', () => {
  it('loses no lead, duplicates none, and drains the backlog after recovery', async () => {
    // Warm up: the token is cached and the path works before the CRM goes down.
    const warm = await submitLead(stack, 'warm');
    await eventually('the warm-up lead', () => (recordsOf(stack.sim, warm.leadId).length === 1 ? true : undefined));

    stack.sim.setFaults({ outage: true });
    const outageStarted = Date.now();
    const leads = [];
    for (let i = 0; i < 30; i++) leads.push(await submitLead(stack, `outage${i}`));
    // Give the leads time to be scored, routed and tried against the dead CRM.
    await eventually('retries recorded during the outage', async () => {
      const { record } = await stack.crmSync.getSyncStatus({ leadId: leads.at(-1)!.leadId });
      return record && record.attempts >= 1 ? record : undefined;
    }, 10_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));

    const during = stack.sim.counters();
    expect(during.byStatus['503']).toBeGreaterThan(0);
    for (const { leadId } of leads) expect(recordsOf(stack.sim, leadId)).toHaveLength(0);
    const waiting = await stack.crmSync.getSyncStatus({ leadId: leads[0]!.leadId });
    expect(waiting.record?.status).not.toBe(crmsync.SyncStatus.SYNCED);
    expect(waiting.record?.lastError).toMatch(/503|circuit breaker/);
    // The breaker and the backoff keep the CRM from being hammered: far fewer calls than one per
    // lead per retry round (30 leads, 15 s, the first retries every 200-1500 ms).
    expect(during.byStatus['503']).toBeLessThan(30 * 15);

    // Recovery, straight into a rate-limit storm (Salesforce's REQUEST_LIMIT_EXCEEDED), with more leads arriving.
    stack.sim.setFaults({ outage: false, rateLimit: { count: 40, retryAfterSeconds: 1 } });
    for (let i = 0; i < 20; i++) leads.push(await submitLead(stack, `storm${i}`));

    const ids = leads.map((l) => l.leadId);
    await eventually('every lead in the CRM', () => (ids.every((id) => recordsOf(stack.sim, id).length > 0) ? true : undefined), 60_000);
    expect(stack.sim.counters().byStatus['403']).toBe(40);

    // Exactly one record per lead, and nothing else.
    const emails = new Set(leads.map((l) => l.email));
    const ours = stack.sim.records('salesforce').filter((r) => emails.has(String(r.Email)));
    expect(ours).toHaveLength(50);
    for (const id of ids) expect(recordsOf(stack.sim, id)).toHaveLength(1);

    // The CRM answers before crm-sync records the answer, so the last sync records land a moment later.
    const statuses = await eventually('every sync record SYNCED', async () => {
      const all = await Promise.all(ids.map(async (leadId) => ({ leadId, record: (await stack.crmSync.getSyncStatus({ leadId })).record })));
      return all.every(({ record }) => record?.status === crmsync.SyncStatus.SYNCED) ? all : undefined;
    }, 30_000);
    for (const { leadId, record } of statuses) {
      expect({ leadId, crmId: record?.crmId }).toEqual({ leadId, crmId: recordsOf(stack.sim, leadId)[0]!.Id });
    }
    expect((await stack.crmSync.listDeadLetters({})).deadLetters).toEqual([]);
  }, 120_000);
});
