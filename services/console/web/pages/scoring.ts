import type { scoring } from '@leadmesh/contracts';
import { diffLines } from '../../src/domain/line-diff.js';
import { may } from '../../src/domain/offers.js';
import { api, problem } from '../api.js';
import { h, status, table, when } from '../dom.js';
import type { PageContext } from '../main.js';

function select(id: string, label: string, ruleSets: scoring.RuleSet[], selected: string): [HTMLElement, HTMLSelectElement] {
  const el = h('select', { id, name: id }, ruleSets.map((r) => h('option', { value: r.version, selected: r.version === selected }, `${r.version}${r.active ? ' (active)' : ''}`))) as HTMLSelectElement;
  return [h('div', {}, h('label', { for: id }, label), el), el];
}

/** "What if we change scoring?": versions, their differences, their effect on leads, activation and rollback. */
export async function scoringPage(ctx: PageContext): Promise<HTMLElement> {
  const out = h('div', {});
  const canAdmin = may(ctx.session.scopes, 'activateRuleSet');
  if (!canAdmin) {
    out.append(status('Rule-set versions need the rules:admin scope; your account can preview scores only.'));
    return out;
  }
  const { ruleSets, activeVersion } = await api.scoring.listRuleSets({});
  const newest = [...ruleSets].sort((a, b) => Number((b.publishedAt?.seconds ?? 0n) - (a.publishedAt?.seconds ?? 0n)));
  const candidateDefault = newest.find((r) => !r.active)?.version ?? activeVersion;

  out.append(
    h('section', { class: 'card', 'aria-labelledby': 'versions' }, h('h2', { id: 'versions' }, 'Rule-set versions'),
      table('Published versions, newest first', ['Version', 'Description', 'Published', 'State'],
        newest.map((r) => [r.version, r.description, when(r.publishedAt), r.active ? h('strong', { 'data-testid': 'active-version' }, `active since ${when(r.activatedAt)}`) : '—']))),
  );

  // Diff between any two versions.
  const [fromBox, from] = select('diff-from', 'Compare', ruleSets, activeVersion);
  const [toBox, to] = select('diff-to', 'with', ruleSets, candidateDefault);
  const diffOut = h('div', { 'aria-live': 'polite' });
  const showDiff = () => {
    const a = ruleSets.find((r) => r.version === from.value)?.document ?? '';
    const b = ruleSets.find((r) => r.version === to.value)?.document ?? '';
    const lines = diffLines(a, b);
    const changed = lines.filter((l) => l.kind !== 'same').length;
    diffOut.replaceChildren(
      h('p', {}, changed ? `${changed} lines differ.` : 'The two versions are the same.'),
      h('div', { class: 'diff', role: 'region', 'aria-label': 'Differences', tabindex: '0' },
        lines.map((l) => h('div', { class: l.kind }, `${l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}${l.text}`))),
    );
  };
  from.addEventListener('change', showDiff);
  to.addEventListener('change', showDiff);
  showDiff();
  out.append(h('section', { class: 'card', 'aria-labelledby': 'diff' }, h('h2', { id: 'diff' }, 'What changed between two versions'), h('div', { class: 'row' }, fromBox, toBox), diffOut));

  // What-if: the effect of a version on the newest leads, and on one lead.
  const [candBox, candidate] = select('candidate', 'Version to try', ruleSets, candidateDefault);
  const leadInput = h('input', { id: 'what-if-lead', type: 'text', size: '38', placeholder: 'optional lead id' }) as HTMLInputElement;
  const previewOut = h('div', { 'aria-live': 'polite' });
  const preview = async () => {
    previewOut.replaceChildren(status('Scoring the newest leads with both versions…'));
    try {
      const p = await api.console.previewRuleSet({ ruleSetVersion: candidate.value, leadId: leadInput.value.trim(), lastLeads: 50 });
      const max = Math.max(1, ...p.distribution.flatMap((d) => [d.before, d.after]));
      const explain = (l: NonNullable<typeof p.lead>) =>
        h('section', { class: 'card', 'aria-label': 'One lead' },
          h('p', { 'data-testid': 'what-if-lead' }, `${l.label}: ${l.current?.grade} with ${p.activeVersion}, ${l.candidate?.grade} with ${p.candidateVersion}`),
          table(`Why, with ${p.candidateVersion}`, ['Points', 'Because'], (l.candidate?.reasons ?? []).map((r) => [r.points > 0 ? `+${r.points}` : String(r.points), r.explanation])));
      previewOut.replaceChildren(
        h('p', { 'data-testid': 'preview-summary' }, `${p.changed} of ${p.leads.length} recent leads would change grade with ${p.candidateVersion} (active: ${p.activeVersion}).`),
        table('Grades before and after', ['Grade', `With ${p.activeVersion}`, `With ${p.candidateVersion}`],
          p.distribution.map((d) => [
            d.grade,
            h('span', {}, h('span', { class: 'bar before', style: `width:${(d.before / max) * 10}rem`, 'aria-hidden': 'true' }), ` ${d.before}`),
            h('span', {}, h('span', { class: 'bar after', style: `width:${(d.after / max) * 10}rem`, 'aria-hidden': 'true' }), ` ${d.after}`),
          ])),
        ...(p.lead ? [explain(p.lead)] : []),
        p.changed
          ? table('Leads whose grade would change', ['Lead', 'Now', 'Then'],
              p.leads.filter((l) => l.current?.grade !== l.candidate?.grade).map((l) => [l.label, l.current?.grade ?? '', l.candidate?.grade ?? '']))
          : h('p', {}, 'No lead would change grade.'),
      );
    } catch (err) {
      previewOut.replaceChildren(status(problem(err), 'error'));
    }
  };
  out.append(
    h('section', { class: 'card', 'aria-labelledby': 'what-if' }, h('h2', { id: 'what-if' }, 'What if we used another version?'),
      h('div', { class: 'row' }, candBox, h('div', {}, h('label', { for: 'what-if-lead' }, 'Explain one lead'), leadInput),
        h('button', { type: 'button', onclick: (() => void preview()) as EventListener }, 'Preview effect')),
      previewOut),
  );

  // Activate (or roll back to) a version, with a confirmation.
  const [actBox, target] = select('activate-version', 'Make this version active', ruleSets, candidateDefault);
  const actOut = h('div', { 'aria-live': 'polite' });
  const dialog = h('dialog', { 'aria-labelledby': 'confirm-title' }) as HTMLDialogElement;
  const activate = async () => {
    dialog.close();
    actOut.replaceChildren(status(`Activating ${target.value}…`));
    try {
      const answer = await api.scoring.activateRuleSet({ version: target.value });
      const job = answer.rescore?.jobId;
      actOut.replaceChildren(status(`${target.value} is active. Stored leads are being rescored${job ? ` (job ${job})` : ''}.`, 'ok'));
      if (job) void followRescore(job, actOut);
    } catch (err) {
      actOut.replaceChildren(status(problem(err), 'error'));
    }
  };
  const ask = () => {
    dialog.replaceChildren(
      h('h2', { id: 'confirm-title' }, `Activate ${target.value}?`),
      h('p', {}, `Every new lead will be scored with ${target.value}, and every stored lead rescored. You can roll back by activating ${activeVersion} again.`),
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: (() => void activate()) as EventListener }, `Yes, activate ${target.value}`),
        h('button', { type: 'button', class: 'secondary', onclick: (() => dialog.close()) as EventListener }, 'Cancel')),
    );
    dialog.showModal();
  };
  out.append(
    h('section', { class: 'card', 'aria-labelledby': 'activate' }, h('h2', { id: 'activate' }, 'Activate or roll back'),
      h('p', {}, `Active now: ${activeVersion}. To roll back, activate the version that was active before.`),
      h('div', { class: 'row' }, actBox, h('button', { type: 'button', class: 'danger', onclick: ask as EventListener }, 'Activate…')),
      actOut, dialog),
  );
  return out;
}

async function followRescore(jobId: string, into: HTMLElement): Promise<void> {
  const line = status('Rescoring…');
  into.append(line);
  for (let i = 0; i < 120; i++) {
    try {
      const { rescore } = await api.scoring.getRescoreProgress({ jobId });
      line.textContent = rescore?.finished ? `Rescore finished: ${rescore.done} of ${rescore.total} leads.` : `Rescoring: ${rescore?.done ?? 0} of ${rescore?.total ?? '?'} leads.`;
      if (rescore?.finished) return;
    } catch (err) {
      line.textContent = problem(err);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
