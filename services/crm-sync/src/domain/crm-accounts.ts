// The accounts of the CRM as routing's lead-to-account matching needs them: the domains a company's
// people write from, and who owns the account. Salesforce keeps a company's site in Account.Website
// (free text a rep typed: "https://www.acme.com/en", "acme.com"), HubSpot in the company's `domain`
// property ("acme.com") plus `hs_additional_domains`. Pure: no I/O.

/** One CRM account as a poll read it. */
export interface CrmAccountSeen {
  /** Salesforce Account Id, HubSpot company id. */
  accountId: string;
  name: string;
  /** Lower-cased domains, without scheme, "www." or path; empty when the record names none. */
  domains: string[];
  /** The owner's CRM user id (Salesforce OwnerId, HubSpot hubspot_owner_id); empty when none. */
  crmOwnerId: string;
  /** Salesforce SystemModstamp, HubSpot hs_lastmodifieddate. */
  modifiedAt: Date;
}

const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/**
 * The domain of a website or domain value as a rep typed it, or undefined when it holds none:
 * "https://www.Acme.com/en?x" and "acme.com." both give "acme.com". Only "www." is dropped: other
 * subdomains (uk.acme.com) may well be a separate account, and routing's matching already walks from
 * a lead's subdomain up to its parent.
 */
export function normaliseDomain(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let v = value.trim().toLowerCase();
  if (v === '') return undefined;
  v = v.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  v = v.replace(/^[^@/]*@/, ''); // user info before the host, never a company's domain
  v = v.split(/[/?#]/)[0]!.replace(/:\d+$/, '').replace(/\.$/, '');
  v = v.replace(/^www\d?\./, '');
  return DOMAIN.test(v) ? v : undefined;
}

/** Every domain a record names, normalised and de-duplicated, the primary one first. HubSpot separates additional domains by ";". */
export function accountDomains(primary: unknown, additional?: unknown): string[] {
  const extra = typeof additional === 'string' ? additional.split(/[;,\s]+/) : [];
  const domains = [primary, ...extra].map(normaliseDomain).filter((d): d is string => d !== undefined);
  return [...new Set(domains)];
}
