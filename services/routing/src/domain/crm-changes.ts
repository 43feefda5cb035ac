// What a change sales made in the CRM (leadmesh.crm.lead_changed) does to the assignment routing
// owns, and what an acceptance records, whoever reports it (AcceptLead or the CRM). Pure: no I/O.
import type { Owner } from './owners.js';

/**
 * Routing's owner for the CRM's new owner: the owner crm-sync mapped (by the CRM user ids the
 * owners carry, the same ones crm-sync writes as the CRM owner), else the owner whose CRM user id in
 * that CRM is the one the CRM names. Undefined when no owner has that CRM user.
 */
export function ownerForCrmUser(owners: readonly Owner[], crm: string, ownerId: string, crmOwnerId: string): Owner | undefined {
  if (ownerId) {
    const mapped = owners.find((o) => o.id === ownerId);
    if (mapped) return mapped;
  }
  if (!crmOwnerId) return undefined;
  const key = crm === 'hubspot' ? 'hubspotOwnerId' : crm === 'salesforce' ? 'salesforceUserId' : undefined;
  return key ? owners.find((o) => o.crmUserIds?.[key] === crmOwnerId) : undefined;
}

export interface CrmChangeSeen {
  /** Routing's owner for the CRM's new owner, when the owner changed and is known. */
  newOwnerId?: string | undefined;
  /** The CRM status now means the owner accepted the lead. */
  accepted: boolean;
}

export interface CrmChangePlan {
  /** Move the lead to this owner (sales reassigned it in the CRM). */
  reassignTo?: string;
  /** Record the acceptance (for the owner the lead has after the change). */
  accept: boolean;
}

/**
 * A reassignment in the CRM moves the lead when it names another owner; an acceptance is recorded
 * once (an accepted lead that sales then moves to someone else is that person's to accept again).
 */
export function planCrmChange(current: { ownerId: string; accepted: boolean }, seen: CrmChangeSeen): CrmChangePlan {
  const reassignTo = seen.newOwnerId && seen.newOwnerId !== current.ownerId ? seen.newOwnerId : undefined;
  const acceptedNow = reassignTo ? false : current.accepted;
  return { ...(reassignTo && { reassignTo }), accept: seen.accepted && !acceptedNow };
}

/** An acceptance as the assignment stores it: the SLA clock stops (no more checks) and the audit says who and how. */
export function acceptance(ownerId: string, acceptedAt: string, assignment: Record<string, unknown>, via: 'api' | 'crm') {
  return {
    set: { acceptedAt: new Date(acceptedAt), nextSlaCheckAt: null, assignment: { ...assignment, acceptedAt } },
    history: { kind: 'accepted', ownerId, acceptedAt, via },
  };
}
