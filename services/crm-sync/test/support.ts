// Shared set-up for the adapter tests: the CRM simulator (a test fixture) on a free port, and
// adapter settings scaled down from minutes to milliseconds so the suite stays quick.
import { startCrmSimulator, SIMULATOR_DEFAULTS, type CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { HubspotAdapter, type HubspotOptions } from '../src/crm/hubspot.adapter.js';
import { DEFAULT_RESILIENCE, type CrmAdapterEvent, type ResilienceOptions } from '../src/crm/resilience.js';
import { SalesforceAdapter, type SalesforceOptions } from '../src/crm/salesforce.adapter.js';

export const fastResilience: ResilienceOptions = {
  ...DEFAULT_RESILIENCE,
  requestTimeoutMs: 1_000,
  retryMaxAttempts: 4,
  retryInitialDelayMs: 10,
  retryMaxDelayMs: 50,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 300,
  rateLimitDefaultPauseMs: 800,
  rateLimitMaxWaitMs: 5_000,
};

export const startSimulator = (): Promise<CrmSimulator> => startCrmSimulator({ port: 0 });

export function salesforceAdapter(sim: CrmSimulator, overrides: Partial<SalesforceOptions> = {}, events: CrmAdapterEvent[] = []) {
  return new SalesforceAdapter({
    loginUrl: sim.url,
    clientId: SIMULATOR_DEFAULTS.salesforceClientId,
    clientSecret: SIMULATOR_DEFAULTS.salesforceClientSecret,
    apiVersion: '62.0',
    externalIdField: 'Leadmesh_Lead_Id__c',
    autoAssign: true,
    tokenTtlMs: 60_000,
    batchSize: 200,
    resilience: fastResilience,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
}

export function hubspotAdapter(sim: CrmSimulator, overrides: Partial<HubspotOptions> = {}, events: CrmAdapterEvent[] = []) {
  return new HubspotAdapter({
    baseUrl: sim.url,
    token: SIMULATOR_DEFAULTS.hubspotToken,
    leadIdProperty: 'leadmesh_lead_id',
    batchSize: 100,
    burstLimit: 100,
    burstWindowMs: 10_000,
    dailyLimit: 250_000,
    dailyResetUtcOffsetMinutes: 0,
    resilience: fastResilience,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
}

export const salesforceLead = (n: number | string, extra: Record<string, unknown> = {}) => ({
  Email: `lead${n}@example.com`,
  LastName: `Lead ${n}`,
  Company: 'Example Ltd',
  ...extra,
});

export async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
