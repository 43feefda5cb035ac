// Accounts from HubSpot (the CRM simulator standing in), on the real NATS and FerretDB with all five
// services: crm-sync searches companies by hs_lastmodifieddate and routing matches leads to them.
import { leadFollowsCrmAccount } from './accounts-scenario.js';
import { startCrmStack, type CrmStack } from './stack-support.js';

let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack('crm-sync-accounts-hs', 370, { CRM_PROVIDER: 'hubspot' }, undefined, {
    'crm-sync': { CRM_ACCOUNT_POLL_MS: '500' },
  });
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

describe('accounts from HubSpot', () => {
  it('a company created in HubSpot with a domain and an owner gets the next lead from its domain; a new company owner gets the one after', async () => {
    await leadFollowsCrmAccount(stack, 'hubspot');
  }, 120_000);
});
