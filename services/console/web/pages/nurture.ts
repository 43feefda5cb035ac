import { api } from '../api.js';
import { h, table } from '../dom.js';
import type { PageContext } from '../main.js';

function after(seconds: bigint | undefined): string {
  const s = Number(seconds ?? 0n);
  if (s === 0) return 'at once';
  const parts: string[] = [];
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days) parts.push(`${days} day${days > 1 ? 's' : ''}`);
  if (hours) parts.push(`${hours} hour${hours > 1 ? 's' : ''}`);
  if (minutes) parts.push(`${minutes} minute${minutes > 1 ? 's' : ''}`);
  return `after ${parts.join(' ')}`;
}

/** "What are we sending?": each track's emails and delays, the leads in it, the unsubscribes. */
export async function nurturePage(_ctx: PageContext): Promise<HTMLElement> {
  const { tracks, unsubscribedLeads } = await api.nurture.listTracks({});
  return h(
    'div',
    {},
    h('p', { 'data-testid': 'unsubscribed' }, `${unsubscribedLeads} lead${unsubscribedLeads === 1 ? ' has' : 's have'} unsubscribed from marketing email.`),
    table('Leads in each track', ['Track', 'Kind', 'In it now', 'Finished', 'Left early'],
      tracks.map((t) => [t.name, t.kind.toLowerCase().replace(/_/g, ' '), t.activeEnrollments, t.completedEnrollments, t.exitedEnrollments])),
    ...tracks.map((t) =>
      h('section', { class: 'card', 'aria-label': t.name },
        h('h2', {}, `${t.name} `, h('span', { class: 'tag' }, `${t.trackId} v${t.version}`)),
        table(`Emails of ${t.name}`, ['When', 'Subject', 'Template'], t.steps.map((s) => [after(s.delay?.seconds), s.subject, s.template])))),
  );
}
