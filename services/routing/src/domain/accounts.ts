import { RoutingConfigError, assertUnique, readList, readObject, readString } from './validate.js';

// Consumer mailbox providers: thousands of unrelated people share these domains, so a lead from one
// of them says nothing about which company, and therefore which account, they belong to.
export const DEFAULT_FREE_MAIL_DOMAINS: readonly string[] = [
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'live.com', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.co.jp', 'ymail.com', 'rocketmail.com', 'aol.com',
  'icloud.com', 'me.com', 'mac.com', 'proton.me', 'protonmail.com', 'pm.me', 'gmx.com', 'gmx.de', 'gmx.net',
  'web.de', 't-online.de', 'orange.fr', 'free.fr', 'laposte.net', 'libero.it', 'mail.ru', 'yandex.ru', 'yandex.com',
  'qq.com', '163.com', '126.com', 'naver.com', 'rediffmail.com', 'fastmail.com', 'hey.com', 'tutanota.com', 'zoho.in',
];

/** The lower-cased domain of an email address, or undefined when the address has none. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const domain = email.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain) ? domain : undefined;
}

export function isFreeMailDomain(domain: string, extraFreeMailDomains: readonly string[] = []): boolean {
  const d = domain.toLowerCase();
  return DEFAULT_FREE_MAIL_DOMAINS.includes(d) || extraFreeMailDomains.some((x) => x.toLowerCase() === d);
}

/**
 * The account that owns a domain. A lead from a subsidiary's or region's subdomain (uk.acme.com)
 * belongs to the parent account (acme.com), so parent domains are tried, most specific first.
 */
export function findAccountOwner(domain: string, accountOwners: ReadonlyMap<string, string>): { domain: string; ownerId: string } | undefined {
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; labels.length - i >= 2; i++) {
    const candidate = labels.slice(i).join('.');
    const ownerId = accountOwners.get(candidate);
    if (ownerId !== undefined) return { domain: candidate, ownerId };
  }
  return undefined;
}

export interface AccountList {
  version: string;
  accountOwners: Map<string, string>;
}

/** Validates the accounts seed ({ version, accounts: [{ domain, name, ownerId }] }). */
export function parseAccountOwners(raw: unknown): AccountList {
  const o = readObject(raw, 'accounts config', ['version', 'accounts']);
  const accounts = readList(o.accounts, 'accounts').map((a, i) => {
    const path = `accounts[${i}]`;
    const ao = readObject(a, path, ['domain', 'name', 'ownerId']);
    const domain = readString(ao.domain, `${path}.domain`).toLowerCase();
    if (emailDomain(`x@${domain}`) !== domain) throw new RoutingConfigError(`${path}.domain`, `"${domain}" is not a domain name`);
    if (isFreeMailDomain(domain)) throw new RoutingConfigError(`${path}.domain`, `"${domain}" is a free-mail domain and can never identify an account`);
    readString(ao.name, `${path}.name`);
    return { domain, ownerId: readString(ao.ownerId, `${path}.ownerId`) };
  });
  assertUnique(accounts.map((a) => a.domain), (i) => `accounts[${i}].domain`, 'account domain');
  return { version: readString(o.version, 'version'), accountOwners: new Map(accounts.map((a) => [a.domain, a.ownerId])) };
}
