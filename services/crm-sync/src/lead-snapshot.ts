import { timestampDate } from '@bufbuild/protobuf/wkt';
import { intake, nurture, routing, scoring } from '@leadmesh/contracts';
import type { CrmLeadSnapshot } from './domain/field-mapping.js';
import { emailMarketingConsent } from './domain/sync-rules.js';

export interface GatheredLead {
  lead: intake.Lead;
  score: scoring.LeadScore | undefined;
  assignment: routing.Assignment | undefined;
  enrollments: nurture.Enrollment[];
  /** The lead unsubscribed: nurture says so, or crm-sync saw leadmesh.lead.unsubscribed. */
  unsubscribed: boolean;
}

/** The lead as the field mapping reads it, from what its owning services answered. */
export function toSnapshot({ lead, score, assignment, enrollments, unsubscribed }: GatheredLead): CrmLeadSnapshot {
  const p = lead.profile;
  const c = p?.contact;
  const active = enrollments.find((e) => e.status === nurture.EnrollmentStatus.ACTIVE);
  return {
    leadId: lead.leadId,
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
      formId: p?.source?.formId || undefined,
      utmSource: p?.source?.utmSource || undefined,
      utmMedium: p?.source?.utmMedium || undefined,
      utmCampaign: p?.source?.utmCampaign || undefined,
    },
    consent: { emailMarketing: emailMarketingConsent(p?.consent?.emailMarketing ?? false, unsubscribed) },
    score: score && {
      fitScore: score.fitScore,
      engagementScore: score.engagementScore,
      grade: score.grade,
      lifecycleStage: score.lifecycleStage === scoring.LifecycleStage.MQL ? 'mql' : 'lead',
      ruleSetVersion: score.ruleSetVersion,
    },
    assignment: assignment && { ownerId: assignment.ownerId, ownerName: assignment.ownerName, teamId: assignment.teamId },
    nurture: active && { trackId: active.trackId },
    receivedAt: leadReceivedAt(lead),
  };
}

export function leadReceivedAt(lead: intake.Lead): Date {
  // Intake stamps every lead; a guess here would change a CRM field on every sync.
  if (!lead.receivedAt) throw new Error(`intake returned lead ${lead.leadId} without received_at`);
  return timestampDate(lead.receivedAt);
}
