// Accounts from the CRM, at the CRM's door: the adapters find the accounts the CRM modified after a
// watermark (Salesforce SOQL on Account.SystemModstamp, HubSpot company search on
// hs_lastmodifieddate) in the CRM simulator (a test fixture), with normalised domains and the owner.
import type { CrmSimulator } from '../../../test/fixtures/crm-simulator/index.ts';
import { accountAsSales } from './stack-support.js';
import { hubspotAdapter, salesforceAdapter, startSimulator } from './support.js';

let sim: CrmSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Salesforce: Accounts modified since a watermark', () => {
  it('answers the Accounts stamped at or after the watermark, oldest first, with the Website as a domain and the OwnerId', async () => {
    const crm = salesforceAdapter(sim);
    const before = new Date(Date.now() - 1000);
    const acme = await accountAsSales(sim, 'salesforce', { Name: 'Acme Corporation', Website: 'https://www.acme-sf.example/en', OwnerId: '005000000000010AAA' });
    const noSite = await accountAsSales(sim, 'salesforce', { Name: 'Initech' });
    const accounts = await crm.accountsChangedSince(before, 100);
    expect(accounts).toEqual([
      { accountId: acme, name: 'Acme Corporation', domains: ['acme-sf.example'], crmOwnerId: '005000000000010AAA', modifiedAt: expect.any(Date) },
      // No OwnerId given: the creating user owns it, as in Salesforce.
      { accountId: noSite, name: 'Initech', domains: [], crmOwnerId: expect.stringMatching(/^005/), modifiedAt: expect.any(Date) },
    ]);
    expect(await crm.accountsChangedSince(new Date(Date.now() + 2000), 100)).toEqual([]);

    await accountAsSales(sim, 'salesforce', { OwnerId: '005000000000011AAA' }, acme);
    const edited = (await crm.accountsChangedSince(accounts[1]!.modifiedAt, 100)).find((a) => a.accountId === acme);
    expect(edited?.crmOwnerId).toBe('005000000000011AAA');
  });

  it('the simulator refuses an Account without a Name and an unknown field, as Salesforce does', async () => {
    await expect(accountAsSales(sim, 'salesforce', { Website: 'acme.example' })).rejects.toThrow(/REQUIRED_FIELD_MISSING/);
    await expect(accountAsSales(sim, 'salesforce', { Name: 'Acme', Domain__c: 'acme.example' })).rejects.toThrow(/INVALID_FIELD/);
  });
});

describe('HubSpot: companies modified since a watermark', () => {
  it('answers the companies modified at or after the watermark, oldest first, with domain, additional domains and hubspot_owner_id', async () => {
    const crm = hubspotAdapter(sim);
    const before = new Date(Date.now() - 1000);
    const globex = await accountAsSales(sim, 'hubspot', { name: 'Globex', domain: 'globex-hs.example', hs_additional_domains: 'globex-hs.de', hubspot_owner_id: '81234567' });
    await pause();
    const other = await accountAsSales(sim, 'hubspot', { name: 'Umbrella', domain: 'umbrella-hs.example' });
    const accounts = await crm.accountsChangedSince(before, 100);
    expect(accounts).toEqual([
      { accountId: globex, name: 'Globex', domains: ['globex-hs.example', 'globex-hs.de'], crmOwnerId: '81234567', modifiedAt: expect.any(Date) },
      { accountId: other, name: 'Umbrella', domains: ['umbrella-hs.example'], crmOwnerId: '', modifiedAt: expect.any(Date) },
    ]);
    expect(await crm.accountsChangedSince(before, 1)).toHaveLength(1);

    await pause();
    await accountAsSales(sim, 'hubspot', { hubspot_owner_id: '81234568' }, globex);
    const edited = await crm.accountsChangedSince(new Date(accounts[1]!.modifiedAt.getTime() + 1), 100);
    expect(edited.map((a) => [a.accountId, a.crmOwnerId])).toEqual([[globex, '81234568']]);
  });
});
