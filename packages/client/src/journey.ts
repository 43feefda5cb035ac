// A lead's journey through the five services, as one timeline a business user can read.
//
// Until intake serves GetLeadJourney, the journey is assembled here from each service's own read
// (GetLead, GetLeadScore, GetAssignment, GetEnrollments, GetSyncStatus). When the RPC lands, only
// `fetchLeadState` changes; the examples and the CLI call `readLeadJourney` and stay as they are.
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { crmsync, nurture, scoring, type intake, type routing } from '@leadmesh/contracts';
import type { LeadmeshClient } from './leadmesh-client.js';
import type { ServiceName } from './options.js';
import { isServiceError } from './retry.js';

export interface JourneyEvent {
  /** Undefined for what has not happened yet (a step still due is dated by its due time). */
  at: Date | undefined;
  service: ServiceName;
  /** What happened, in one line. */
  summary: string;
  /** The why: reasons, rules, errors. */
  details: string[];
}

export interface LeadJourney {
  leadId: string;
  events: JourneyEvent[];
  /** Services that know nothing of the lead yet (NOT_FOUND). */
  notYet: ServiceName[];
  /** Services that could not be asked, with the error. */
  unreachable: Array<{ service: ServiceName; error: string }>;
}

/** Every service's answer about one lead; undefined where the service does not know it. */
export interface LeadState {
  leadId: string;
  lead?: intake.Lead | undefined;
  score?: scoring.GetLeadScoreResponse | undefined;
  assignment?: routing.Assignment | undefined;
  enrollments?: nurture.GetEnrollmentsResponse | undefined;
  sync?: crmsync.SyncRecord | undefined;
  unreachable: Array<{ service: ServiceName; error: string }>;
}

export async function fetchLeadState(client: LeadmeshClient, leadId: string): Promise<LeadState> {
  const unreachable: LeadState['unreachable'] = [];
  const ask = async <T>(service: ServiceName, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (err) {
      if (isServiceError(err) && err.code === grpc.status.NOT_FOUND) return undefined;
      unreachable.push({ service, error: isServiceError(err) ? `${grpc.status[err.code]}: ${err.details}` : String(err) });
      return undefined;
    }
  };
  const [lead, score, assignment, enrollments, sync] = await Promise.all([
    ask('intake', async () => (await client.intake.getLead({ leadId })).lead),
    ask('scoring', () => client.scoring.getLeadScore({ leadId })),
    ask('routing', async () => (await client.routing.getAssignment({ leadId })).assignment),
    ask('nurture', () => client.nurture.getEnrollments({ leadId })),
    ask('crm-sync', async () => (await client.crmSync.getSyncStatus({ leadId })).record),
  ]);
  return { leadId, lead, score: score?.score ? score : undefined, assignment, enrollments, sync, unreachable };
}

export async function readLeadJourney(client: LeadmeshClient, leadId: string): Promise<LeadJourney> {
  return journeyOf(await fetchLeadState(client, leadId));
}

const date = (ts: Timestamp | undefined) => (ts && (ts.seconds !== 0n || ts.nanos !== 0) ? timestampDate(ts) : undefined);
const enumName = (e: Record<number, string>, value: number, prefix: string) => (e[value] ?? String(value)).replace(prefix, '').toLowerCase().replace(/_/g, ' ');

function intakeEvents(lead: intake.Lead): JourneyEvent[] {
  const contact = lead.profile?.contact;
  const consent = lead.profile?.consent;
  const who = [contact?.email, contact?.company, contact?.country].filter(Boolean).join(', ');
  const events: JourneyEvent[] = [{
    at: date(lead.receivedAt),
    service: 'intake',
    summary: `lead received${who ? ` (${who})` : ''}`,
    details: [
      lead.profile?.source?.formId ? `form ${lead.profile.source.formId}${lead.profile.source.utmSource ? `, utm source ${lead.profile.source.utmSource}` : ''}` : '',
      consent ? `email marketing consent: ${consent.emailMarketing ? 'yes' : 'no'}${consent.wordingVersion ? ` (wording ${consent.wordingVersion})` : ''}` : 'no consent given',
    ].filter(Boolean),
  }];
  if (lead.submissionCount > 1) {
    events.push({ at: date(lead.lastSubmittedAt), service: 'intake', summary: `submitted again (${lead.submissionCount} submissions in all)`, details: [] });
  }
  return events;
}

function scoreEvent(score: scoring.LeadScore, label: string): JourneyEvent {
  const stage = enumName(scoring.LifecycleStage, score.lifecycleStage, 'LIFECYCLE_STAGE_');
  return {
    at: date(score.scoredAt),
    service: 'scoring',
    summary: `${label} ${score.grade} (fit ${score.fitScore}, engagement ${score.engagementScore}), stage ${stage.toUpperCase()}, rule set ${score.ruleSetVersion}`,
    details: score.reasons.map((r) => `${r.points >= 0 ? '+' : ''}${r.points} ${r.ruleId}${r.explanation ? `: ${r.explanation}` : ''}`),
  };
}

function routingEvents(a: routing.Assignment): JourneyEvent[] {
  const events: JourneyEvent[] = [{
    at: date(a.assignedAt),
    service: 'routing',
    summary: `assigned to ${a.ownerName || a.ownerId}${a.teamId ? ` (team ${a.teamId})` : ''} by rule ${a.ruleId}`,
    details: [a.reason, a.previousOwnerIds.length ? `previous owners: ${a.previousOwnerIds.join(', ')}` : '', date(a.slaDueAt) && !a.acceptedAt ? `must be accepted by ${date(a.slaDueAt)!.toISOString()}` : ''].filter(Boolean),
  }];
  if (a.acceptedAt) events.push({ at: date(a.acceptedAt), service: 'routing', summary: `accepted by ${a.ownerName || a.ownerId}`, details: [] });
  return events;
}

function nurtureEvents(response: nurture.GetEnrollmentsResponse): JourneyEvent[] {
  const events: JourneyEvent[] = [];
  for (const e of response.enrollments) {
    const status = enumName(nurture.EnrollmentStatus, e.status, 'ENROLLMENT_STATUS_');
    events.push({ at: date(e.enrolledAt), service: 'nurture', summary: `enrolled in track ${e.trackId} v${e.trackVersion} (${status})`, details: [e.reason, e.exitReason ? `left: ${e.exitReason}` : ''].filter(Boolean) });
    for (const step of e.steps) {
      const stepStatus = enumName(nurture.StepStatus, step.status, 'STEP_STATUS_');
      const at = step.status === nurture.StepStatus.SENT ? date(step.sentAt) : date(step.dueAt);
      events.push({ at, service: 'nurture', summary: `email ${step.template} ${stepStatus}`, details: step.lastError ? [`${step.attempts} attempts, last error: ${step.lastError}`] : [] });
    }
  }
  if (response.suppressed) events.push({ at: undefined, service: 'nurture', summary: 'marketing email suppressed', details: [response.suppressionReason].filter(Boolean) });
  return events;
}

function syncEvent(r: crmsync.SyncRecord): JourneyEvent {
  const status = enumName(crmsync.SyncStatus, r.status, 'SYNC_STATUS_');
  const synced = r.status === crmsync.SyncStatus.SYNCED;
  return {
    at: synced ? date(r.syncedAt) : undefined,
    service: 'crm-sync',
    summary: synced ? `synced to the CRM as ${r.crmId} (${r.latencyMs} ms after it was received)` : `CRM sync ${status}`,
    details: [`${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`, r.lastError ? `last error: ${r.lastError}` : ''].filter(Boolean),
  };
}

/** Pure: turns the services' answers into one timeline, oldest first, undated events last. */
export function journeyOf(state: LeadState): LeadJourney {
  const events: JourneyEvent[] = [];
  const notYet: ServiceName[] = [];
  const unreachable = new Set(state.unreachable.map((u) => u.service));
  const add = (service: ServiceName, present: unknown, make: () => JourneyEvent[]) => {
    if (present) events.push(...make());
    else if (!unreachable.has(service)) notYet.push(service);
  };
  add('intake', state.lead, () => intakeEvents(state.lead!));
  add('scoring', state.score, () => [...state.score!.history].reverse().map((s) => scoreEvent(s, 'scored')).concat(scoreEvent(state.score!.score!, state.score!.history.length ? 'rescored' : 'scored')));
  add('routing', state.assignment, () => routingEvents(state.assignment!));
  add('nurture', state.enrollments && (state.enrollments.enrollments.length || state.enrollments.suppressed), () => nurtureEvents(state.enrollments!));
  add('crm-sync', state.sync, () => [syncEvent(state.sync!)]);
  const order = (e: JourneyEvent) => e.at?.getTime() ?? Number.POSITIVE_INFINITY;
  // A stable sort keeps the pipeline's order for events in the same millisecond.
  events.sort((a, b) => order(a) - order(b));
  return { leadId: state.leadId, events, notYet, unreachable: state.unreachable };
}
