// A backlog reaches the CRM in batches: while the gateway's requests are all waiting on the CRM,
// the leads queued behind them go out together through sObject Collections.
import { CrmGateway } from '../src/crm.gateway.js';
import { loadFieldMapping } from '../src/crm/mapping-files.js';
import { salesforceAdapter, salesforceLead, startSimulator } from './support.js';

describe('CrmGateway', () => {
  it('sends leads one by one while the CRM keeps up, and a backlog as batches, each lead answered with its own record', async () => {
    const sim = await startSimulator();
    try {
      const gateway = new CrmGateway(salesforceAdapter(sim), await loadFieldMapping('salesforce'), undefined, 1);
      const alone = await gateway.send('lead-alone', salesforceLead('alone'));
      expect(alone.created).toBe(true);

      const backlog = Array.from({ length: 60 }, (_, i) => gateway.send(`lead-${i}`, salesforceLead(i)));
      const results = await Promise.all(backlog);
      expect(new Set(results.map((r) => r.crmId)).size).toBe(60);
      expect(sim.records('salesforce')).toHaveLength(61);

      const writes = sim.requests().filter((r) => r.method === 'PATCH');
      const batches = writes.filter((r) => r.path.includes('/composite/sobjects/'));
      // The first of the 60 goes alone (nothing in flight); the other 59 wait behind it and go as one batch.
      expect(writes.length).toBeLessThanOrEqual(4);
      expect(batches.length).toBeGreaterThanOrEqual(1);
    } finally {
      await sim.close();
    }
  });
});
