import { api, problem } from '../api.js';
import { h, status, table, when } from '../dom.js';
import type { PageContext } from '../main.js';

/** Privacy: erase a person everywhere and watch each service confirm it. */
export async function privacyPage(_ctx: PageContext): Promise<HTMLElement> {
  const email = h('input', { id: 'erase-email', type: 'email', size: '36', autocomplete: 'off' }) as HTMLInputElement;
  const out = h('div', { 'aria-live': 'polite' });
  const dialog = h('dialog', { 'aria-labelledby': 'erase-title' }) as HTMLDialogElement;
  const erase = async () => {
    dialog.close();
    try {
      const { erasureId } = await api.intake.eraseContact({ email: email.value.trim() });
      for (let i = 0; i < 60; i++) {
        const e = await api.intake.getErasure({ erasureId });
        out.replaceChildren(
          status(e.completed ? 'Erased in every service.' : 'Erasing…', e.completed ? 'ok' : 'info'),
          table(`Erasure ${erasureId}, requested ${when(e.requestedAt)}`, ['Service', 'Done'], e.services.map((s) => [s.service, s.completedAt ? when(s.completedAt) : 'not yet'])),
        );
        if (e.completed) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    } catch (err) {
      out.replaceChildren(status(problem(err), 'error'));
    }
  };
  const ask = (event: Event) => {
    event.preventDefault();
    dialog.replaceChildren(
      h('h2', { id: 'erase-title' }, `Erase ${email.value.trim()}?`),
      h('p', {}, 'Everything leadmesh holds about this person is deleted in every service and in the CRM. This cannot be undone.'),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'danger', onclick: (() => void erase()) as EventListener }, 'Yes, erase'),
        h('button', { type: 'button', class: 'secondary', onclick: (() => dialog.close()) as EventListener }, 'Cancel')),
    );
    dialog.showModal();
  };
  return h('section', { class: 'card', 'aria-labelledby': 'erase' }, h('h2', { id: 'erase' }, 'Right to erasure'),
    h('form', { class: 'row', onsubmit: ask as EventListener }, h('div', {}, h('label', { for: 'erase-email' }, 'Email address of the person'), email), h('button', { type: 'submit', class: 'danger' }, 'Erase…')),
    out, dialog);
}
