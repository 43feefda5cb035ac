import { may } from '../../src/domain/offers.js';
import { api, problem } from '../api.js';
import { h, status, table } from '../dom.js';
import type { PageContext } from '../main.js';

/** What a change said, shown again once the page is drawn anew with the changed owners. */
let changeNotice: string | undefined;

/** "Who gets the leads?": teams and owners, and where a sample lead would go. */
export async function routingPage(ctx: PageContext): Promise<HTMLElement> {
  const out = h('div', {});
  if (may(ctx.session.scopes, 'listOwners')) {
    try {
      const { owners, loads } = await api.routing.listOwners({});
      const teams = [...new Set(owners.map((o) => o.teamId))].sort();
      const feedback = h('div', { 'aria-live': 'polite' }, changeNotice && status(changeNotice, 'ok'));
      changeNotice = undefined;
      const loadOf = (ownerId: string) => loads.find((l) => l.ownerId === ownerId);
      // Listing owners and changing their availability need the same scope (owners:admin).
      const toggle = (o: (typeof owners)[number]) =>
        h('button', { type: 'button', class: 'secondary', onclick: (async (ev: Event) => {
          const button = ev.currentTarget as HTMLButtonElement;
          button.disabled = true;
          try {
            // Out-of-office periods are kept as they are; only the switch changes.
            const { owner } = await api.routing.setOwnerAvailability({ ownerId: o.ownerId, active: !o.active, outOfOffice: o.outOfOffice });
            changeNotice = `${o.name} is now ${owner?.active ? 'available for new leads' : 'unavailable: no new leads'}.`;
            ctx.navigate('/routing');
          } catch (err) {
            feedback.replaceChildren(status(problem(err), 'error'));
            button.disabled = false;
          }
        }) as EventListener }, o.active ? `Mark ${o.name} unavailable` : `Mark ${o.name} available`);
      // Weight and daily cap, changed in place; the rest of the owner is sent back as it was listed.
      const edit = (o: (typeof owners)[number]) => {
        const id = `owner-${o.ownerId}`;
        const weight = h('input', { id: `${id}-weight`, type: 'number', min: '0.1', max: '1000', step: '0.1', value: String(o.weight), size: '5' }) as HTMLInputElement;
        const cap = h('input', { id: `${id}-cap`, type: 'number', min: '0', step: '1', value: String(o.capacityPerDay), size: '5' }) as HTMLInputElement;
        const save = async (ev: Event) => {
          ev.preventDefault();
          try {
            const { owner } = await api.routing.upsertOwner({ owner: { ...o, weight: Number(weight.value), capacityPerDay: Number(cap.value) } });
            changeNotice = `${owner?.name ?? o.name}: weight ${owner?.weight}, ${owner?.capacityPerDay ? `at most ${owner.capacityPerDay} leads a day` : 'no daily cap'}.`;
            ctx.navigate('/routing');
          } catch (err) {
            feedback.replaceChildren(status(problem(err), 'error'));
          }
        };
        return h('form', { class: 'row', 'aria-label': `Weight and cap of ${o.name}`, onsubmit: save as EventListener },
          h('label', { for: weight.id }, `Weight of ${o.name}`), weight,
          h('label', { for: cap.id }, `Leads per day for ${o.name} (0: no cap)`), cap,
          h('button', { type: 'submit', class: 'secondary' }, 'Save'));
      };
      const editing = may(ctx.session.scopes, 'editOwner');
      out.append(
        h('section', { class: 'card', 'aria-labelledby': 'owners' }, h('h2', { id: 'owners' }, 'Teams and owners'), feedback,
          ...teams.map((team) =>
            table(`Team ${team}`, ['Owner', 'Available', 'Territories', 'Weight', 'Leads per day', 'Change'],
              owners.filter((o) => o.teamId === team).map((o) => [o.name, o.active ? 'yes' : 'no', o.territories.join(', ') || 'all', String(o.weight), o.capacityPerDay ? String(o.capacityPerDay) : 'no cap', h('div', {}, toggle(o), editing && edit(o))])))),
        h('section', { class: 'card', 'aria-labelledby': 'distribution' }, h('h2', { id: 'distribution' }, 'Round-robin distribution'),
          h('p', {}, "Each owner's share of the team's round-robin turns so far, against the share their weight asks for; and the leads they got today against their cap."),
          ...teams.map((team) => distribution(team, owners.filter((o) => o.teamId === team).map((o) => ({ o, load: loadOf(o.ownerId) }))))),
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

interface Listed {
  o: { ownerId: string; name: string; weight: number; capacityPerDay: number; active: boolean };
  load?: { roundRobinTurns: bigint; assignedToday: number };
}

/** A team's turns as bars, each beside the share its weight asks for; numbers in text for every reader. */
function distribution(team: string, members: Listed[]): HTMLElement {
  const turns = members.reduce((sum, m) => sum + Number(m.load?.roundRobinTurns ?? 0n), 0);
  const weights = members.reduce((sum, m) => sum + m.o.weight, 0);
  const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 100) : 0);
  return table(`Round-robin turns in ${team}: ${turns} in all`, ['Owner', 'Turns taken', 'Share by weight', 'Today'],
    members.map(({ o, load }) => {
      const taken = Number(load?.roundRobinTurns ?? 0n);
      return [
        o.name,
        h('span', { 'data-testid': `turns-${o.ownerId}` }, h('span', { class: 'bar after', style: `width:${(percent(taken, turns) / 100) * 10}rem`, 'aria-hidden': 'true' }), ` ${taken} (${percent(taken, turns)} %)`),
        h('span', {}, h('span', { class: 'bar before', style: `width:${(percent(o.weight, weights) / 100) * 10}rem`, 'aria-hidden': 'true' }), ` ${percent(o.weight, weights)} %`),
        `${load?.assignedToday ?? 0}${o.capacityPerDay ? ` of ${o.capacityPerDay}` : ''}`,
      ];
    }));
}
