// A lead's way through leadmesh as one timeline a marketer can read: pure, from what each service
// answered about the lead.

export interface JourneyParts {
  submissions: Array<{ receivedAt: Date; channel: string; outcome: string; formId?: string; consent: boolean }>;
  score?: { scoredAt?: Date; grade: string; fitScore: number; engagementScore: number; stage: string; ruleSetVersion: string; topReasons: string[] };
  assignment?: { assignedAt?: Date; ownerName: string; ownerId: string; teamId: string; ruleId: string; reason: string; acceptedAt?: Date; slaDueAt?: Date };
  enrollments: Array<{ enrolledAt?: Date; trackId: string; reason: string; steps: Array<{ stepId: string; status: string; sentAt?: Date; dueAt?: Date }> }>;
  sync?: {
    status: string;
    crmId: string;
    syncedAt?: Date;
    latencyMs: number;
    lastError: string;
    attempts: number;
    campaigns?: Array<{ campaignId: string; source: string; status: string; addedAt?: Date }>;
    issues?: Array<{ code: string; message: string }>;
    converted?: { contactId: string; rule: string; seenAt?: Date };
    /** Changes sales made in the CRM that leadmesh took back (owner, acceptance). */
    crmChanges?: Array<{ seenAt?: Date; ownerId: string; crmOwnerId: string; crmStatus: string; accepted: boolean; via: string }>;
  };
  /** Web and engagement activity, the anonymous visits stitched to the lead included. */
  activities?: Array<{ occurredAt: Date; type: string; url?: string }>;
}

const ACTIVITY_WORDS: Record<string, string> = {
  PAGE_VIEW: 'Viewed a page',
  PRICING_PAGE_VIEW: 'Viewed the pricing page',
  CONTENT_DOWNLOAD: 'Downloaded content',
  WEBINAR_ATTENDED: 'Attended a webinar',
  EMAIL_OPENED: 'Opened an email',
  EMAIL_CLICKED: 'Clicked a link in an email',
  FORM_SUBMITTED: 'Submitted a form',
  FORM_VIEWED: 'Saw a form',
};

export interface JourneyStep {
  occurredAt: Date;
  service: 'intake' | 'scoring' | 'routing' | 'nurture' | 'crm-sync';
  summary: string;
}

export function buildJourney(parts: JourneyParts): JourneyStep[] {
  const steps: JourneyStep[] = [];
  for (const a of parts.activities ?? []) {
    const type = a.type.replace(/^ACTIVITY_TYPE_/, '');
    steps.push({ occurredAt: a.occurredAt, service: 'intake', summary: `${ACTIVITY_WORDS[type] ?? type}${a.url ? ` (${a.url})` : ''}.` });
  }
  parts.submissions.forEach((s, i) => {
    const how = s.channel === 'web-form' ? 'the web form' : 'the API';
    const what = i === 0 ? 'First submission' : 'Submitted again';
    steps.push({
      occurredAt: s.receivedAt,
      service: 'intake',
      summary: `${what} through ${how}${s.formId ? ` (form ${s.formId})` : ''}; marketing consent ${s.consent ? 'given' : 'not given'}.`,
    });
  });
  if (parts.score?.scoredAt) {
    const s = parts.score;
    const why = s.topReasons.length ? ` Top reasons: ${s.topReasons.join('; ')}.` : '';
    steps.push({
      occurredAt: s.scoredAt!,
      service: 'scoring',
      summary: `Scored ${s.grade} (fit ${s.fitScore}, engagement ${s.engagementScore}), ${s.stage} under rule set ${s.ruleSetVersion}.${why}`,
    });
  }
  if (parts.assignment?.assignedAt) {
    const a = parts.assignment;
    steps.push({ occurredAt: a.assignedAt!, service: 'routing', summary: `Assigned to ${a.ownerName || a.ownerId} (team ${a.teamId}) by rule ${a.ruleId}: ${a.reason}` });
    if (a.acceptedAt) steps.push({ occurredAt: a.acceptedAt, service: 'routing', summary: `Accepted by ${a.ownerName || a.ownerId}.` });
  }
  for (const e of parts.enrollments) {
    if (e.enrolledAt) steps.push({ occurredAt: e.enrolledAt, service: 'nurture', summary: `Enrolled in track ${e.trackId}: ${e.reason}` });
    for (const step of e.steps) {
      if (step.sentAt) steps.push({ occurredAt: step.sentAt, service: 'nurture', summary: `Email ${step.stepId} of ${e.trackId} sent.` });
    }
  }
  if (parts.sync) {
    const s = parts.sync;
    if (s.syncedAt) steps.push({ occurredAt: s.syncedAt, service: 'crm-sync', summary: `In the CRM as ${s.crmId}, ${s.latencyMs} ms after intake received it.` });
    if (s.converted?.seenAt) {
      const next = s.converted.rule === 'follow' ? 'later updates go to the Contact' : 'no more updates are sent';
      steps.push({ occurredAt: s.converted.seenAt, service: 'crm-sync', summary: `Converted by sales in the CRM to Contact ${s.converted.contactId}; ${next}.` });
    }
    for (const c of s.crmChanges ?? []) {
      if (!c.seenAt) continue;
      const how = c.via === 'webhook' ? 'by webhook' : 'by polling';
      if (c.crmOwnerId) {
        const to = c.ownerId ? `owner ${c.ownerId}` : `CRM user ${c.crmOwnerId} (no routing owner known to crm-sync)`;
        steps.push({ occurredAt: c.seenAt, service: 'crm-sync', summary: `Reassigned by sales in the CRM to ${to}; routing told (seen ${how}).` });
      }
      if (c.accepted) steps.push({ occurredAt: c.seenAt, service: 'crm-sync', summary: `Accepted by sales in the CRM (status ${c.crmStatus}); routing told (seen ${how}).` });
    }
    for (const c of s.campaigns ?? []) {
      const via = c.source === 'form' ? 'named by the form' : `from ${c.source.replace(':', ' ')}`;
      if (c.addedAt) steps.push({ occurredAt: c.addedAt, service: 'crm-sync', summary: `Member of CRM campaign ${c.campaignId} (${c.status}), ${via}.` });
    }
  }
  return steps.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
}

/** What is still ahead of the lead, for the end of a timeline. */
export function pendingSteps(parts: JourneyParts): string[] {
  const pending: string[] = [];
  // Named problems a person must fix (an unknown campaign, an owner with no CRM user): the lead went through.
  for (const issue of parts.sync?.issues ?? []) pending.push(`CRM sync note ${issue.code}: ${issue.message}`);
  if (parts.sync && parts.sync.status !== 'SYNCED') pending.push(`CRM sync ${parts.sync.status.toLowerCase()} after ${parts.sync.attempts} attempts${parts.sync.lastError ? `: ${parts.sync.lastError}` : ''}`);
  for (const e of parts.enrollments) {
    for (const step of e.steps) if (step.status === 'DUE' && step.dueAt) pending.push(`Email ${step.stepId} of ${e.trackId} due ${step.dueAt.toISOString()}`);
  }
  return pending;
}
