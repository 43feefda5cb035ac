// The accounts of the CRM (leadmesh.crm.account_changed) as lead-to-account matching reads them: each
// domain to its account and the account's owner as routing knows it. The CRM is the record of who
// owns an account; the accounts file (config/) answers only for domains no CRM account names, so a
// development stack and the tests still match without a CRM. Pure: no I/O.
import { ownerForCrmUser } from './crm-changes.js';
import type { Owner } from './owners.js';

/** Routing's copy of one CRM account, as its last event said. */
export interface CrmAccount {
  crm: string;
  accountId: string;
  name: string;
  /** Lower-cased, normalised by crm-sync; empty when the CRM record names none. */
  domains: readonly string[];
  /** Routing's owner id as crm-sync mapped it; empty when it could not. */
  ownerId: string;
  /** The owner's CRM user id. */
  crmOwnerId: string;
  crmModifiedAt: Date;
}

/** A CRM account a domain belongs to, with its owner resolved against routing's owners. */
export interface CrmAccountEntry {
  crm: string;
  accountId: string;
  name: string;
  /** Routing's owner of the account; empty when no owner carries the account's CRM user. */
  ownerId: string;
  crmOwnerId: string;
}

/**
 * Domain -> CRM account. Owners are resolved now, against the owners as they are (an owner given
 * their CRM user id after the account arrived is found). Two accounts naming one domain (a duplicate
 * sales has not merged yet): the one modified last wins, as the most recent word of sales.
 */
export function crmAccountIndex(accounts: readonly CrmAccount[], owners: readonly Owner[]): Map<string, CrmAccountEntry> {
  const index = new Map<string, CrmAccountEntry>();
  const ordered = [...accounts].sort((a, b) => a.crmModifiedAt.getTime() - b.crmModifiedAt.getTime() || (a.accountId < b.accountId ? -1 : 1));
  for (const account of ordered) {
    const owner = ownerForCrmUser(owners, account.crm, account.ownerId, account.crmOwnerId);
    const entry: CrmAccountEntry = { crm: account.crm, accountId: account.accountId, name: account.name, ownerId: owner?.id ?? '', crmOwnerId: account.crmOwnerId };
    for (const domain of account.domains) index.set(domain.toLowerCase(), entry);
  }
  return index;
}

/** The CRM account of a domain or of its nearest parent domain (uk.acme.com -> acme.com), as for the file's accounts. */
export function findCrmAccount(domain: string, index: ReadonlyMap<string, CrmAccountEntry>): (CrmAccountEntry & { domain: string }) | undefined {
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; labels.length - i >= 2; i++) {
    const candidate = labels.slice(i).join('.');
    const entry = index.get(candidate);
    if (entry) return { ...entry, domain: candidate };
  }
  return undefined;
}
