// The half-open probe after a CRM outage, against the CRM simulator (a test fixture): syncs waiting
// on a down CRM are released within a probe interval of its return, through the adapter's breaker.
import { createLogger } from '@leadmesh/platform';
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { CrmAvailability } from '../src/crm-availability.js';
import { caught, fastResilience, hubspotAdapter, salesforceAdapter, startSimulator } from './support.js';

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const logger = createLogger('test', 'silent');

describe.each([
  ['salesforce', (s: CrmSimulator) => salesforceAdapter(s, { resilience: { ...fastResilience, breakerHalfOpenAfterMs: 400, retryMaxAttempts: 1 } })],
  ['hubspot', (s: CrmSimulator) => hubspotAdapter(s, { resilience: { ...fastResilience, breakerHalfOpenAfterMs: 400, retryMaxAttempts: 1 } })],
] as const)('CrmAvailability with %s', (crmName, adapterFor) => {
  it('keeps waiters waiting while the CRM is down, and releases them all on the probe that finds it back', async () => {
    const crm = adapterFor(sim);
    await crm.probe();
    sim.setFaults({ outage: true });
    // Enough failures to open the breaker: later calls fail fast without reaching the CRM.
    for (let i = 0; i < fastResilience.breakerThreshold; i++) await caught(crm.probe());
    expect(await caught(crm.probe())).toMatchObject({ breakerOpen: true });
    expect(crm.breakerState).toBe('open');

    const availability = new CrmAvailability(crm, { probeIntervalMs: 100, maxWaitMs: 10_000 }, logger);
    expect(await availability.waitUntilAnswering(300)).toBe(false);
    expect(availability.down).toBe(true);
    const waiters = [availability.waitUntilAnswering(), availability.waitUntilAnswering(), availability.waitUntilAnswering()];
    const requestsWhileDown = sim.counters().requests;
    await new Promise((r) => setTimeout(r, 600));
    // The breaker holds the probes back between half-open trials: a few requests, not one per waiter per interval.
    expect(sim.counters().requests - requestsWhileDown).toBeLessThanOrEqual(3);

    sim.setFaults({ outage: false });
    const back = Date.now();
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
    // Within the half-open delay (400 ms) and a probe interval (100 ms) of the CRM's return.
    expect(Date.now() - back).toBeLessThan(1_500);
    expect(availability.down).toBe(false);
    expect(crm.breakerState).toBe('closed');
    expect(sim.requests().at(-1)?.crm).toBe(crmName);
  });
});

it('reports a CRM that answers again as such at once, without a wait', async () => {
  const crm = salesforceAdapter(sim);
  const availability = new CrmAvailability(crm, { probeIntervalMs: 50, maxWaitMs: 5_000 }, logger);
  const start = Date.now();
  expect(await availability.waitUntilAnswering()).toBe(true);
  expect(Date.now() - start).toBeLessThan(1_000);
});
