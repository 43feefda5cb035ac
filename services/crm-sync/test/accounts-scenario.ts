// Accounts from the CRM, end to end: an account sales creates in the CRM (the CRM simulator, a test
// fixture, standing in) reaches routing through crm-sync's account polling and
// leadmesh.crm.account_changed, and a new lead from the account's domain goes to the account's owner;
// a change of the account's owner in the CRM moves the next lead. Shared by the Salesforce and
// HubSpot stack tests.
import { randomUUID } from 'node:crypto';
import { accountAsSales, eventually, submitLead, type CrmStack } from './stack-support.js';

type Crm = 'salesforce' | 'hubspot';

async function twoOwners(stack: CrmStack, crm: Crm) {
  const key = crm === 'salesforce' ? 'salesforceUserId' : 'hubspotOwnerId';
  const { owners } = await stack.routing.listOwners({});
  const withCrmUser = owners.filter((o) => o.active && o.crmUserIds?.[key]);
  if (withCrmUser.length < 2) throw new Error(`the seeded owners need two active owners with a ${key}`);
  return { first: withCrmUser[0]!, second: withCrmUser[1]!, crmUserOf: (o: (typeof owners)[number]) => o.crmUserIds![key] };
}

async function routedAssignment(stack: CrmStack, leadId: string) {
  return eventually(`lead ${leadId} routed`, async () => {
    const { assignment } = await stack.routing.getAssignment({ leadId }).catch(() => ({ assignment: undefined }));
    return assignment?.ownerId ? assignment : undefined;
  });
}

export async function leadFollowsCrmAccount(stack: CrmStack, crm: Crm): Promise<void> {
  const { first, second, crmUserOf } = await twoOwners(stack, crm);
  const id = randomUUID().slice(0, 8);
  const domain = `northwind-${id}.example`;
  const name = `Northwind Traders ${id}`;
  const accountId =
    crm === 'salesforce'
      ? await accountAsSales(stack.sim, crm, { Name: name, Website: `https://www.${domain}/en`, OwnerId: crmUserOf(first) })
      : await accountAsSales(stack.sim, crm, { name, domain, hubspot_owner_id: crmUserOf(first) });

  // Routing has taken the account in once a preview from its domain names it.
  const preview = (email: string) => stack.routing.previewRoute({ profile: { contact: { email, company: 'Northwind', country: 'Germany', companySize: 800 } } });
  await eventually('routing knows the CRM account', async () => {
    const { assignment } = await preview(`probe@${domain}`);
    return assignment?.reason.includes(name) ? true : undefined;
  });

  const { leadId } = await submitLead(stack, 'acct', { domain });
  const routed = await routedAssignment(stack, leadId);
  expect(routed).toMatchObject({ ownerId: first.ownerId, ruleId: 'account-match' });
  expect(routed.reason).toContain(`Account match: the email domain ${domain} belongs to the account ${domain} (${crm} account "${name}"), owned by ${first.name}`);

  // Sales hands the account to another owner in the CRM: the next lead from it follows.
  await accountAsSales(stack.sim, crm, crm === 'salesforce' ? { OwnerId: crmUserOf(second) } : { hubspot_owner_id: crmUserOf(second) }, accountId);
  await eventually('routing follows the account owner', async () => {
    const { assignment } = await preview(`probe@${domain}`);
    return assignment?.ownerId === second.ownerId ? true : undefined;
  });
  const { leadId: next } = await submitLead(stack, 'acct-next', { domain: `emea.${domain}` });
  const moved = await routedAssignment(stack, next);
  expect(moved).toMatchObject({ ownerId: second.ownerId, ruleId: 'account-match' });
  expect(moved.reason).toContain(`belongs to the account ${domain} (${crm} account "${name}"), owned by ${second.name}`);
  // The earlier lead keeps its owner: an account's new owner gets new leads, not reassignments.
  expect((await stack.routing.getAssignment({ leadId })).assignment?.ownerId).toBe(first.ownerId);
}
