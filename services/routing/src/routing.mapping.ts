import { toJson, type MessageInitShape } from '@bufbuild/protobuf';
import { TimestampSchema, timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { scoring, type lead, type routing } from '@leadmesh/contracts';
import { loadOf, type Owner, type OwnerLoad, type RouteDecision, type RoutingLead } from './domain/index.js';

// Translation between the contracts and the routing domain's plain types.

export function toRoutingLead(profile: lead.LeadProfile | undefined, score: scoring.LeadScore | undefined): RoutingLead {
  const c = profile?.contact;
  const routingLead: RoutingLead = { email: c?.email ?? '' };
  if (c?.country) routingLead.country = c.country;
  if (c?.companySize) routingLead.companySize = c.companySize;
  if (c?.industry) routingLead.industry = c.industry;
  if (profile?.interest?.product) routingLead.product = profile.interest.product;
  if (profile?.source?.formId) routingLead.formId = profile.source.formId;
  if (profile?.source?.utmSource) routingLead.utmSource = profile.source.utmSource;
  if (score?.grade) routingLead.grade = score.grade;
  if (score) routingLead.stage = score.lifecycleStage === scoring.LifecycleStage.MQL ? 'MQL' : 'LEAD';
  return routingLead;
}

export type AssignmentInit = MessageInitShape<typeof routing.AssignmentSchema>;

export function toAssignment(
  leadId: string,
  decision: RouteDecision,
  owners: readonly Owner[],
  times: { assignedAt: Date; slaDueAt?: Date },
  previousOwnerIds: readonly string[] = [],
  reasonPrefix?: string,
): AssignmentInit {
  const owner = owners.find((o) => o.id === decision.ownerId);
  const assignment: AssignmentInit = {
    leadId,
    ownerId: decision.ownerId,
    ownerName: owner?.name ?? '',
    ownerEmail: owner?.email ?? '',
    // The event carries the owner's CRM users, so crm-sync sets the CRM owner without asking routing.
    ownerCrmUserIds: { salesforceUserId: owner?.crmUserIds?.salesforceUserId ?? '', hubspotOwnerId: owner?.crmUserIds?.hubspotOwnerId ?? '' },
    teamId: decision.teamId,
    ruleId: decision.ruleId,
    reason: reasonPrefix ? `${reasonPrefix} ${decision.reason}` : decision.reason,
    assignedAt: timestampFromDate(times.assignedAt),
    previousOwnerIds: [...previousOwnerIds],
  };
  if (times.slaDueAt) assignment.slaDueAt = timestampFromDate(times.slaDueAt);
  return assignment;
}

export const timestampJson = (date: Date): string => toJson(TimestampSchema, timestampFromDate(date)) as string;

/** The owner as the seed files spell it, so owner management and the files share one validation. */
export function ownerFromProto(o: routing.Owner): Record<string, unknown> {
  const segments: Record<string, unknown> = {};
  if (o.segments?.minCompanySize) segments.minCompanySize = o.segments.minCompanySize;
  if (o.segments?.maxCompanySize) segments.maxCompanySize = o.segments.maxCompanySize;
  if (o.segments?.industries.length) segments.industries = o.segments.industries;
  if (o.segments?.products.length) segments.products = o.segments.products;
  return {
    id: o.ownerId,
    name: o.name,
    email: o.email,
    teamId: o.teamId,
    territories: o.territories,
    ...(Object.keys(segments).length ? { segments } : {}),
    weight: o.weight,
    capacityPerDay: o.capacityPerDay,
    timeZone: o.timeZone,
    workingHours: o.workingHours ? { days: o.workingHours.days, start: o.workingHours.start, end: o.workingHours.end } : undefined,
    outOfOffice: outOfOfficeFromProto(o.outOfOffice),
    active: o.active,
    ...(o.crmUserIds && { crmUserIds: { salesforceUserId: o.crmUserIds.salesforceUserId, hubspotOwnerId: o.crmUserIds.hubspotOwnerId } }),
  };
}

export const outOfOfficeFromProto = (windows: readonly routing.OutOfOffice[]) =>
  windows.map((w) => ({ from: w.from && timestampDate(w.from), to: w.to && timestampDate(w.to) }));

/** ListOwners: the owners, and each one's load in the same order. */
export function listOwnersToProto(listed: { owners: Owner[]; loads: ReadonlyMap<string, OwnerLoad> }): MessageInitShape<typeof routing.ListOwnersResponseSchema> {
  return {
    owners: listed.owners.map(ownerToProto),
    loads: listed.owners.map((o) => {
      const load = loadOf(listed.loads, o.id);
      return { ownerId: o.id, roundRobinTurns: BigInt(load.roundRobinTurns), assignedToday: load.assignedToday };
    }),
  };
}

export function ownerToProto(owner: Owner): MessageInitShape<typeof routing.OwnerSchema> {
  return {
    ownerId: owner.id,
    name: owner.name,
    email: owner.email,
    teamId: owner.teamId,
    territories: owner.territories,
    weight: owner.weight,
    capacityPerDay: owner.capacityPerDay,
    timeZone: owner.timeZone,
    workingHours: owner.workingHours,
    outOfOffice: owner.outOfOffice.map((w) => ({ from: timestampFromDate(w.from), to: timestampFromDate(w.to) })),
    active: owner.active,
    segments: {
      minCompanySize: owner.segments?.minCompanySize ?? 0,
      maxCompanySize: owner.segments?.maxCompanySize ?? 0,
      industries: owner.segments?.industries ?? [],
      products: owner.segments?.products ?? [],
    },
    crmUserIds: { salesforceUserId: owner.crmUserIds?.salesforceUserId ?? '', hubspotOwnerId: owner.crmUserIds?.hubspotOwnerId ?? '' },
  };
}

/** A domain path (`owner.timeZone`, `outOfOffice[0].to`) as the proto field path (`owner.time_zone`). */
export function protoFieldPath(domainPath: string): string {
  return domainPath
    .replace(/^owner\.id\b/, 'owner.owner_id')
    .replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
