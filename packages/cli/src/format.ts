// Everything the CLI prints, as pure functions of what the services answered, so the wording and
// layout are unit tested without a server.
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { GrpcStatus, intake, isServiceError, type audit, type crmsync, type JourneyEvent, type LeadJourney, type parkedevents, type scoring } from '@leadmesh/client';

const date = (ts: Timestamp | undefined) => (ts && (ts.seconds !== 0n || ts.nanos !== 0) ? timestampDate(ts) : undefined);
/** "2026-01-05 09:00:03Z": sortable, unambiguous, short enough for a terminal. */
export const when = (d: Date | undefined) => (d ? `${d.toISOString().slice(0, 19).replace('T', ' ')}Z` : '-');

/** Columns padded to their widest cell; the last column is left ragged. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const SERVICE_WIDTH = 'crm-sync'.length;

function eventLines(event: JourneyEvent, previous: Date | undefined): string[] {
  const gap = event.at && previous ? ` (+${formatDuration(event.at.getTime() - previous.getTime())})` : '';
  const head = `${when(event.at).padEnd(20)}  ${event.service.padEnd(SERVICE_WIDTH)}  ${event.summary}${gap}`;
  return [head, ...event.details.map((d) => `${' '.repeat(20 + 2 + SERVICE_WIDTH + 2)}· ${d}`)];
}

export function formatJourney(journey: LeadJourney): string {
  const lines = [`Journey of lead ${journey.leadId}`, ''];
  if (journey.events.length === 0) lines.push('No service knows this lead.');
  let previous: Date | undefined;
  for (const event of journey.events) {
    lines.push(...eventLines(event, previous));
    if (event.at) previous = event.at;
  }
  if (journey.notYet.length) lines.push('', `Not yet in: ${journey.notYet.join(', ')}`);
  for (const u of journey.unreachable) lines.push(`Could not ask ${u.service}: ${u.error}`);
  return lines.join('\n');
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

export function formatSubmitted(response: intake.SubmitLeadResponse): string {
  const outcome: Record<number, string> = {
    [intake.SubmissionOutcome.NEW_LEAD]: 'new lead',
    [intake.SubmissionOutcome.EXISTING_CONTACT]: 'new submission on an existing lead (same email)',
    [intake.SubmissionOutcome.IDEMPOTENT_REPLAY]: 'already submitted with this idempotency key; nothing new stored',
  };
  return [`lead ${response.leadId}`, `  ${outcome[response.outcome] ?? 'outcome unknown'}`, `  submission ${response.submissionId}, received ${when(date(response.receivedAt))}`].join('\n');
}

const oneLine = (s: string, max = 80) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export function formatDeadLetters(deadLetters: crmsync.DeadLetter[]): string {
  if (deadLetters.length === 0) return 'No dead letters.';
  const rows = deadLetters.map((d) => [d.leadId, when(date(d.failedAt)), String(d.attempts), d.subject, oneLine(d.error)]);
  return `${table(['LEAD', 'FAILED AT', 'ATTEMPTS', 'SUBJECT', 'ERROR'], rows)}\n\n${deadLetters.length} dead letter${deadLetters.length === 1 ? '' : 's'}`;
}

export function formatAuditRecords(service: string, records: audit.AuditRecord[]): string {
  if (records.length === 0) return `${service} has no audit records.`;
  const rows = records.map((r) => [when(date(r.calledAt)), r.caller, r.method.split('/').pop() ?? r.method, r.target || '-', r.outcome]);
  return `${table(['CALLED AT', 'CALLER', 'METHOD', 'TARGET', 'OUTCOME'], rows)}\n\n${records.length} privileged call${records.length === 1 ? '' : 's'} in ${service}, newest first`;
}

export function formatParkedEvents(service: string, parked: parkedevents.ParkedEvent[]): string {
  if (parked.length === 0) return `${service} has no parked events.`;
  const rows = parked.map((p) => [String(p.sequence), when(date(p.parkedAt)), p.consumer, p.leadId || '-', String(p.deliveries), oneLine(p.error)]);
  return `${table(['SEQ', 'PARKED AT', 'CONSUMER', 'LEAD', 'DELIVERIES', 'ERROR'], rows)}\n\n${parked.length} parked event${parked.length === 1 ? '' : 's'} in ${service}`;
}

export function formatParkedReplay(r: parkedevents.ReplayParkedEventsResponse): string {
  const lines = [`replayed ${r.replayed}, failed again ${r.failed}`];
  for (const p of r.stillParked) lines.push(`  ${p.sequence} ${p.consumer} ${p.leadId || '-'}: ${oneLine(p.error)}`);
  return lines.join('\n');
}

export interface ReplayTally {
  replayed: number;
  skipped: number;
  failed: number;
}

export function formatReplayResult(tally: ReplayTally, errors: Array<{ leadId: string; error: string }> = []): string {
  const lines = [`replayed ${tally.replayed}, skipped ${tally.skipped} (already synced), failed ${tally.failed}`];
  for (const e of errors) lines.push(`  ${e.leadId}: ${e.error}`);
  return lines.join('\n');
}

export function formatRuleSets(response: scoring.ListRuleSetsResponse): string {
  if (response.ruleSets.length === 0) return 'No rule sets published.';
  const rows = response.ruleSets.map((r) => [r.active ? '*' : '', r.version, when(date(r.publishedAt)), when(date(r.activatedAt)), oneLine(r.description, 60)]);
  return `${table(['', 'VERSION', 'PUBLISHED', 'ACTIVATED', 'DESCRIPTION'], rows)}\n\nactive: ${response.activeVersion || 'none'}`;
}

/** One line of a running count, e.g. "rescoring with 2026.2  [#####.....]  120/240  50%". */
export function progressLine(label: string, done: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(share * width);
  return `${label}  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]  ${done}/${total}  ${Math.floor(share * 100)}%`;
}

export function formatRescore(job: scoring.RescoreJob): string {
  const started = date(job.startedAt);
  const finished = date(job.finishedAt);
  const took = started && finished ? ` in ${formatDuration(finished.getTime() - started.getTime())}` : '';
  return job.finished ? `rescored ${job.done} of ${job.total} leads with ${job.ruleSetVersion}${took} (job ${job.jobId})` : progressLine(`rescoring with ${job.ruleSetVersion}`, job.done, job.total);
}

/** A failed call as an operator wants to read it: which service, which status, what it said. */
export function formatError(err: unknown, what?: string): string {
  const prefix = what ? `${what}: ` : '';
  if (isServiceError(err)) return `${prefix}${GrpcStatus[err.code] ?? err.code}: ${err.details || err.message}`;
  return `${prefix}${err instanceof Error ? err.message : String(err)}`;
}

/** Which services have erased the person, and when. */
export function formatErasure(erasure: intake.GetErasureResponse): string {
  const rows = erasure.services.map((s) => [s.service, s.completed ? 'erased' : 'pending', when(date(s.completedAt))]);
  const head = erasure.completed ? `erasure ${erasure.erasureId} complete` : `erasure ${erasure.erasureId} in progress`;
  return `${head}\n${table(['SERVICE', 'STATUS', 'AT'], rows)}`;
}
