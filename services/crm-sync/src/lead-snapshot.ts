import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { lead } from '@leadmesh/contracts';
import type { CrmLeadSnapshot } from './domain/field-mapping.js';
import type { LeadState } from './domain/lead-state.js';
import { emailMarketingConsent } from './domain/sync-rules.js';

/**
 * The sync record holds no lead yet: only an event that carries the profile (lead.routed, a rescore)
 * can bring it, and none has. Retrying the same record cannot help, so the sync is given up.
 */
export class NoLeadStateError extends Error {
  override readonly name = 'NoLeadStateError';
  constructor(readonly leadId: string) {
    super(`lead ${leadId}: crm-sync holds no profile for it yet; the lead's next lead.routed or lead.scored brings it`);
  }
}

/** The lead as the field mapping reads it, from the state the pipeline's events delivered. */
export function toSnapshot(leadId: string, state: LeadState | undefined): CrmLeadSnapshot {
  if (!state?.profile) throw new NoLeadStateError(leadId);
  const p = fromJson(lead.LeadProfileSchema, state.profile.value as JsonValue, { ignoreUnknownFields: true });
  const score = state.score && fromJson(lead.LeadScoreSchema, state.score.value as JsonValue, { ignoreUnknownFields: true });
  const assignment = state.assignment && fromJson(lead.AssignmentSchema, state.assignment.value as JsonValue, { ignoreUnknownFields: true });
  const enrollment = state.enrollment && fromJson(lead.EnrollmentSummarySchema, state.enrollment.value as JsonValue, { ignoreUnknownFields: true });
  const c = p.contact;
  return {
    leadId,
    contact: {
      email: c?.email ?? '',
      firstName: c?.firstName || undefined,
      lastName: c?.lastName || undefined,
      phone: c?.phone || undefined,
      company: c?.company || undefined,
      jobTitle: c?.jobTitle || undefined,
      country: c?.country || undefined,
    },
    source: {
      formId: p.source?.formId || undefined,
      utmSource: p.source?.utmSource || undefined,
      utmMedium: p.source?.utmMedium || undefined,
      utmCampaign: p.source?.utmCampaign || undefined,
      campaignId: p.source?.campaignId || undefined,
    },
    consent: { emailMarketing: emailMarketingConsent(p.consent?.emailMarketing ?? false, state.unsubscribedAt !== undefined) },
    score: score && {
      fitScore: score.fitScore,
      engagementScore: score.engagementScore,
      grade: score.grade,
      lifecycleStage: score.lifecycleStage === lead.LifecycleStage.MQL ? 'mql' : 'lead',
      ruleSetVersion: score.ruleSetVersion,
    },
    assignment: assignment && {
      ownerId: assignment.ownerId,
      ownerName: assignment.ownerName,
      ownerEmail: assignment.ownerEmail || undefined,
      teamId: assignment.teamId,
      salesforceUserId: assignment.ownerCrmUserIds?.salesforceUserId || undefined,
      hubspotOwnerId: assignment.ownerCrmUserIds?.hubspotOwnerId || undefined,
    },
    nurture: enrollment?.status === lead.EnrollmentStatus.ACTIVE ? { trackId: enrollment.trackId } : undefined,
    receivedAt: state.receivedAt,
  };
}
