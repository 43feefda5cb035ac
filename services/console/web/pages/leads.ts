import { lead, crmsync, nurture } from '@leadmesh/contracts';
import { api, problem } from '../api.js';
import { h, link, status, table, when } from '../dom.js';
import type { PageContext } from '../main.js';

const lifecycle = (stage: number) => (lead.LifecycleStage[stage] ?? '').replace(/^LIFECYCLE_STAGE_/, '').toLowerCase().replace(/_/g, ' ');
const syncStatus = (s: number) => (crmsync.SyncStatus[s] ?? '').replace(/^SYNC_STATUS_/, '').toLowerCase().replace(/_/g, ' ');
const stepStatus = (s: number) => (nurture.StepStatus[s] ?? '').replace(/^STEP_STATUS_/, '').toLowerCase();
const consentText = (c: lead.Consent | undefined) => (c?.emailMarketing ? 'agreed to marketing email' : 'no marketing email consent');

/** "What happened to this lead?": find it, then its journey through every service. */
export async function leadsPage(ctx: PageContext): Promise<HTMLElement> {
  return ctx.rest ? journey(ctx, ctx.rest) : search(ctx);
}

async function search(ctx: PageContext): Promise<HTMLElement> {
  const query = new URLSearchParams(location.search).get('q') ?? '';
  const input = h('input', { id: 'lead-search', name: 'q', type: 'search', value: query, size: '40', autocomplete: 'off', 'aria-describedby': 'lead-search-help' }) as HTMLInputElement;
  const form = h(
    'form',
    { role: 'search', class: 'row', onsubmit: ((e: Event) => {
      e.preventDefault();
      ctx.navigate(`/leads?q=${encodeURIComponent(input.value.trim())}`);
    }) as EventListener },
    h('div', {}, h('label', { for: 'lead-search' }, 'Find a lead'), input, h('p', { id: 'lead-search-help', class: 'muted' }, 'An email address, a name, a company or a lead id. Empty shows the newest leads.')),
    h('button', { type: 'submit' }, 'Search'),
  );
  const results = h('section', { 'aria-live': 'polite', 'aria-label': 'Search results' });
  try {
    const { leads } = await api.intake.searchLeads({ query, pageSize: 25 });
    if (!leads.length) results.append(status(query ? `No lead matches “${query}”.` : 'No leads yet.'));
    else
      results.append(
        table(
          query ? `Leads matching “${query}”` : 'Newest leads',
          ['Name', 'Company', 'Email', 'Received', 'Submissions'],
          leads.map((l) => {
            const c = l.profile?.contact;
            const name = [c?.firstName, c?.lastName].filter(Boolean).join(' ') || '(no name)';
            return [link(`/leads/${l.leadId}`, name), c?.company ?? '', c?.email ?? '', when(l.receivedAt), l.submissionCount];
          }),
        ),
      );
  } catch (err) {
    results.append(status(problem(err), 'error'));
  }
  return h('div', {}, form, results);
}

async function journey(ctx: PageContext, leadId: string): Promise<HTMLElement> {
  const j = await api.intake.getLeadJourney({ leadId });
  const c = j.lead?.profile?.contact;
  const name = [c?.firstName, c?.lastName].filter(Boolean).join(' ') || c?.email || leadId;
  const parts: (HTMLElement | false)[] = [];

  parts.push(
    h('p', {}, link('/leads', '← Back to search')),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'who' },
      h('h2', { id: 'who' }, name),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Email'), h('dd', {}, c?.email ?? ''),
        h('dt', {}, 'Company'), h('dd', {}, c?.company || '—'),
        h('dt', {}, 'Job title'), h('dd', {}, c?.jobTitle || '—'),
        h('dt', {}, 'Country'), h('dd', {}, c?.country || '—'),
        h('dt', {}, 'Lead id'), h('dd', {}, h('code', {}, leadId)),
        h('dt', {}, 'Trace'),
        h('dd', {}, j.traceId ? h('a', { href: `${ctx.session.traceUrlPrefix}${j.traceId}`, target: '_blank', rel: 'noopener' }, 'Open this lead’s trace in Jaeger (new tab)') : 'no trace recorded'),
      ),
    ),
  );
  if (j.unavailable.length) parts.push(status(`Incomplete: ${j.unavailable.join(', ')} could not answer right now.`, 'error'));

  parts.push(
    h('section', { class: 'card', 'aria-labelledby': 'timeline' }, h('h2', { id: 'timeline' }, 'Timeline'),
      h('ol', { class: 'timeline' }, j.steps.map((s) => h('li', {}, h('span', { class: 'tag' }, s.service), ' ', h('time', {}, when(s.occurredAt)), h('br'), s.summary))),
      j.pending.length ? h('p', {}, h('strong', {}, 'Still ahead: '), j.pending.join('; ')) : false,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'submissions' }, h('h2', { id: 'submissions' }, 'Submissions and consent'),
      table('What the lead sent', ['Received', 'Channel', 'Form', 'Consent'], j.submissions.map((s) => [when(s.receivedAt), s.channel, s.source?.formId || '—', consentText(s.consent)])),
    ),
  );

  const score = j.score;
  parts.push(
    h('section', { class: 'card', 'aria-labelledby': 'score' }, h('h2', { id: 'score' }, 'Score'),
      score
        ? h('div', {},
            h('p', {}, h('span', { class: 'grade', 'data-testid': 'grade' }, score.grade), ` — fit ${score.fitScore}, engagement ${score.engagementScore}, ${lifecycle(score.lifecycleStage)}; rule set ${score.ruleSetVersion}, scored ${when(score.scoredAt)}`),
            table('Why this score', ['Points', 'Because'], score.reasons.map((r) => [r.points > 0 ? `+${r.points}` : String(r.points), r.explanation]))
          )
        : status('Not scored yet.'),
    ),
  );

  const a = j.assignment;
  parts.push(
    h('section', { class: 'card', 'aria-labelledby': 'routing' }, h('h2', { id: 'routing' }, 'Routing'),
      a
        ? h('dl', { class: 'facts' },
            h('dt', {}, 'Owner'), h('dd', { 'data-testid': 'owner' }, `${a.ownerName} (${a.teamId})`),
            h('dt', {}, 'Why'), h('dd', {}, a.reason || a.ruleId),
            h('dt', {}, 'Assigned'), h('dd', {}, when(a.assignedAt)),
            h('dt', {}, 'Respond by'), h('dd', {}, when(a.slaDueAt) || '—'),
            h('dt', {}, 'Accepted'), h('dd', {}, when(a.acceptedAt) || 'not yet'))
        : status('Not routed yet (leads go to sales once they qualify).'),
    ),
  );

  parts.push(
    h('section', { class: 'card', 'aria-labelledby': 'emails' }, h('h2', { id: 'emails' }, 'Emails'),
      j.enrollments.length
        ? j.enrollments.map((e) =>
            table(`Track ${e.trackId} (version ${e.trackVersion}): ${e.reason}`, ['Email', 'Due', 'Status', 'Sent'],
              e.steps.map((s) => [s.template, when(s.dueAt), stepStatus(s.status) + (s.lastError ? ` (${s.lastError})` : ''), when(s.sentAt) || '—'])))
        : status('No nurture track.'),
    ),
  );

  const sync = j.sync;
  parts.push(
    h('section', { class: 'card', 'aria-labelledby': 'crm' }, h('h2', { id: 'crm' }, 'CRM record'),
      sync
        ? h('div', {},
            h('dl', { class: 'facts' },
              h('dt', {}, 'Sync state'), h('dd', { 'data-testid': 'sync-state' }, syncStatus(sync.status)),
              h('dt', {}, 'CRM id'), h('dd', {}, sync.crmId || '—'),
              h('dt', {}, 'Attempts'), h('dd', {}, String(sync.attempts)),
              h('dt', {}, 'In the CRM'), h('dd', {}, sync.syncedAt ? `${when(sync.syncedAt)} (${Number(sync.latencyMs) / 1000} s after submission)` : 'not yet'),
              sync.lastError ? h('dt', {}, 'Last error') : false, sync.lastError ? h('dd', {}, sync.lastError) : false),
            Object.keys(sync.fields).length ? table('Fields sent to the CRM', ['Field', 'Value'], Object.entries(sync.fields).sort().map(([k, v]) => [k, v])) : false)
        : status('Not in the CRM yet.'),
    ),
  );
  return h('div', {}, ...parts.filter((p): p is HTMLElement => p !== false));
}
