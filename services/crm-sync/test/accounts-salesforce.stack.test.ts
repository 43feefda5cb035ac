// Accounts from Salesforce (the CRM simulator standing in), on the real NATS and FerretDB with all
// five services: crm-sync polls Account by SystemModstamp and routing matches leads to them.
import { leadFollowsCrmAccount } from './accounts-scenario.js';
import { startCrmStack, type CrmStack } from './stack-support.js';

let stack: CrmStack;

beforeAll(async () => {
  stack = await startCrmStack('crm-sync-accounts-sf', 360, {}, undefined, {
    'crm-sync': { CRM_ACCOUNT_POLL_MS: '500' },
  });
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

describe('accounts from Salesforce', () => {
  it("an Account created in Salesforce with a Website and an owner gets the next lead from its domain; a new account owner gets the one after", async () => {
    await leadFollowsCrmAccount(stack, 'salesforce');
  }, 120_000);
});
