import { may } from '../../src/domain/offers.js';
import { api, problem } from '../api.js';
import { h, status, table, when } from '../dom.js';
import type { PageContext } from '../main.js';

const n = (v: number) => Math.round(v).toLocaleString('en-GB');

/** "Is data moving?": the five stages over the last hour, and what each service had to park. */
export async function pipelinePage(ctx: PageContext): Promise<HTMLElement> {
  // Parked events are for those who may replay them (their services refuse the list otherwise).
  const mayReplay = may(ctx.session.scopes, 'replayParkedEvent');
  const seesDeadLetters = mayReplay || may(ctx.session.scopes, 'replayCrmDeadLetter');
  const [health, dead] = await Promise.all([api.console.getPipelineHealth({}), seesDeadLetters ? api.console.listDeadLetters({}) : undefined]);
  const out = h('div', {});
  const since = health.secondsSinceLastLeadFinished;
  out.append(
    h('section', { class: 'card', 'aria-labelledby': 'stages' },
      h('h2', { id: 'stages' }, 'The pipeline over the last hour'),
      health.unavailableReason
        ? status(health.unavailableReason, 'error')
        : h('div', {},
            h('p', {}, since === undefined ? 'No lead has reached the CRM yet.' : `The newest lead reached the CRM ${Math.round(since)} seconds ago.`),
            h('ol', { class: 'stages' },
              health.stages.map((s) =>
                h('li', { class: !s.serving ? 'down' : s.parkedLastHour > 0 || s.waiting > 100 ? 'attention' : '' },
                  h('h3', {}, s.service),
                  h('p', {}, h('strong', {}, s.serving ? 'Running' : 'Not serving')),
                  h('p', {}, `${n(s.handledLastHour)} ${s.service === 'intake' ? 'leads received' : 'events handled'}`),
                  h('p', {}, `${n(s.waiting)} waiting, ${n(s.retriesLastHour)} retried, ${n(s.parkedLastHour)} parked`)))),
          ),
    ),
  );
  if (!dead) {
    out.append(h('p', { class: 'muted' }, 'Parked events and their replay are for marketing operations (events:replay).'));
    return out;
  }
  const parked = h('section', { class: 'card', 'aria-labelledby': 'parked' }, h('h2', { id: 'parked' }, 'Parked events by service'),
    h('p', { class: 'muted' }, 'Events a service could not handle on their own merits are parked here; replay one once its cause is fixed.'));
  const feedback = h('div', { 'aria-live': 'polite' });
  parked.append(feedback);
  for (const s of dead.services) {
    if (s.error) {
      parked.append(h('h3', {}, s.service), status(problem({ message: s.error }), 'error'));
      continue;
    }
    parked.append(
      h('h3', {}, `${s.service}: ${s.parkedEvents.length} parked`),
      ...(s.parkedEvents.length
        ? [table(`Parked in ${s.service}`, ['Parked', 'Event', 'Lead', 'Why', ...(mayReplay ? ['Action'] : [])],
            s.parkedEvents.map((e) => [
              when(e.parkedAt), e.subject, e.leadId || '—', e.error,
              ...(mayReplay
                ? [h('button', { type: 'button', class: 'secondary', 'data-sequence': String(e.sequence), onclick: (async (ev: Event) => {
                    const button = ev.currentTarget as HTMLButtonElement;
                    button.disabled = true;
                    try {
                      const { result } = await api.console.replayParkedEvent({ service: s.service, sequence: e.sequence });
                      feedback.replaceChildren(status(result && result.replayed > 0 ? `Replayed event ${e.sequence} of ${s.service}.` : `Event ${e.sequence} of ${s.service} failed again and stays parked.`, result && result.replayed > 0 ? 'ok' : 'error'));
                      if (result && result.replayed > 0) button.closest('tr')?.remove();
                    } catch (err) {
                      feedback.replaceChildren(status(problem(err), 'error'));
                      button.disabled = false;
                    }
                  }) as EventListener }, `Replay event ${e.sequence}`)]
                : []),
            ]))]
        : []),
    );
  }
  out.append(parked);

  const crm = h('section', { class: 'card', 'aria-labelledby': 'crm-dead' }, h('h2', { id: 'crm-dead' }, 'Leads the CRM refused'));
  if (dead.crmError) crm.append(status(problem({ message: dead.crmError }), 'error'));
  else if (!dead.crmDeadLetters.length) crm.append(status('None.'));
  else {
    const mayReplayCrm = may(ctx.session.scopes, 'replayCrmDeadLetter');
    const crmFeedback = h('div', { 'aria-live': 'polite' });
    crm.append(
      crmFeedback,
      table('CRM dead letters', ['Failed', 'Lead', 'Attempts', 'Why', ...(mayReplayCrm ? ['Action'] : [])],
        dead.crmDeadLetters.map((d) => [
          when(d.failedAt), d.leadId, d.attempts, d.error,
          ...(mayReplayCrm
            ? [h('button', { type: 'button', class: 'secondary', onclick: (async (ev: Event) => {
                const button = ev.currentTarget as HTMLButtonElement;
                button.disabled = true;
                try {
                  const r = await api.crmSync.replay({ target: { case: 'leadId', value: d.leadId } });
                  const ok = r.replayed + r.skipped > 0;
                  crmFeedback.replaceChildren(status(ok ? `Lead ${d.leadId} sent to the CRM again.` : `The CRM refused lead ${d.leadId} again.`, ok ? 'ok' : 'error'));
                  if (ok) button.closest('tr')?.remove();
                  else button.disabled = false;
                } catch (err) {
                  crmFeedback.replaceChildren(status(problem(err), 'error'));
                  button.disabled = false;
                }
              }) as EventListener }, `Send lead ${d.leadId} again`)]
            : []),
        ])),
    );
  }
  out.append(crm);
  return out;
}
