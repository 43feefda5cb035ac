import { may } from '../../src/domain/offers.js';
import { api, problem } from '../api.js';
import { h, status, table } from '../dom.js';
import type { PageContext } from '../main.js';

/** "Who gets the leads?": teams and owners, and where a sample lead would go. */
export async function routingPage(ctx: PageContext): Promise<HTMLElement> {
  const out = h('div', {});
  if (may(ctx.session.scopes, 'listOwners')) {
    try {
      const { owners } = await api.routing.listOwners({});
      const teams = [...new Set(owners.map((o) => o.teamId))].sort();
      const feedback = h('div', { 'aria-live': 'polite' });
      // Listing owners and changing their availability need the same scope (owners:admin).
      const toggle = (o: (typeof owners)[number]) =>
        h('button', { type: 'button', class: 'secondary', onclick: (async (ev: Event) => {
          const button = ev.currentTarget as HTMLButtonElement;
          button.disabled = true;
          try {
            // Out-of-office periods are kept as they are; only the switch changes.
            const { owner } = await api.routing.setOwnerAvailability({ ownerId: o.ownerId, active: !o.active, outOfOffice: o.outOfOffice });
            feedback.replaceChildren(status(`${o.name} is now ${owner?.active ? 'available for new leads' : 'unavailable: no new leads'}.`, 'ok'));
            ctx.navigate('/routing');
          } catch (err) {
            feedback.replaceChildren(status(problem(err), 'error'));
            button.disabled = false;
          }
        }) as EventListener }, o.active ? `Mark ${o.name} unavailable` : `Mark ${o.name} available`);
      out.append(
        h('section', { class: 'card', 'aria-labelledby': 'owners' }, h('h2', { id: 'owners' }, 'Teams and owners'), feedback,
          ...teams.map((team) =>
            table(`Team ${team}`, ['Owner', 'Available', 'Territories', 'Weight', 'Leads per day', 'Change'],
              owners.filter((o) => o.teamId === team).map((o) => [o.name, o.active ? 'yes' : 'no', o.territories.join(', ') || 'all', String(o.weight), o.capacityPerDay ? String(o.capacityPerDay) : 'no cap', toggle(o)])))),
      );
    } catch (err) {
      out.append(status(problem(err), 'error'));
    }
  }
  if (may(ctx.session.scopes, 'previewRoute')) {
    const field = (id: string, label: string, attrs: Record<string, string> = {}) => {
      const input = h('input', { id, name: id, type: 'text', ...attrs }) as HTMLInputElement;
      return [h('div', {}, h('label', { for: id }, label), input), input] as const;
    };
    const [countryBox, country] = field('route-country', 'Country (ISO code)', { value: 'DE', size: '4' });
    const [sizeBox, size] = field('route-size', 'Company size', { value: '40', size: '6', inputmode: 'numeric' });
    const [gradeBox, grade] = field('route-grade', 'Grade', { value: 'B2', size: '4' });
    const result = h('div', { 'aria-live': 'polite' });
    const preview = async () => {
      try {
        const { assignment } = await api.routing.previewRoute({
          profile: { contact: { email: 'sample@example.org', country: country.value.trim(), companySize: Number(size.value) || 0 } },
          score: { grade: grade.value.trim() },
        });
        result.replaceChildren(assignment
          ? h('p', { 'data-testid': 'route-preview' }, `${assignment.ownerName} of ${assignment.teamId} would get it: ${assignment.reason || assignment.ruleId}.`)
          : status('No owner would get it.'));
      } catch (err) {
        result.replaceChildren(status(problem(err), 'error'));
      }
    };
    out.append(h('section', { class: 'card', 'aria-labelledby': 'preview-route' }, h('h2', { id: 'preview-route' }, 'Where would this lead go?'),
      h('div', { class: 'row' }, countryBox, sizeBox, gradeBox, h('button', { type: 'button', onclick: (() => void preview()) as EventListener }, 'Preview route')), result));
  }
  return out;
}
