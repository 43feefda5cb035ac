/**
 * Who may accept a lead for an owner (AcceptLead): the owner themself, whose token's subject is
 * `owner:<ownerId>`, or a caller allowed to act for others (sales operations, a CRM integration
 * relaying its users' acceptances) by the scope `leads:accept-any`. `leads:accept` alone lets a
 * caller act only as itself, so one salesperson cannot take another's lead off the SLA clock.
 */
export const ACCEPT_FOR_OTHERS_SCOPE = 'leads:accept-any';

export const ownerSubject = (ownerId: string): string => `owner:${ownerId}`;

export interface AcceptingCaller {
  subject: string;
  scopes: ReadonlySet<string>;
}

export function mayAcceptAs(caller: AcceptingCaller, ownerId: string): boolean {
  return caller.subject === ownerSubject(ownerId) || caller.scopes.has(ACCEPT_FOR_OTHERS_SCOPE);
}
