import type { consoleApi } from '@leadmesh/contracts';
import { pagesFor } from '../src/domain/offers.js';
import { api, problem } from './api.js';
import { h, status } from './dom.js';
import { leadsPage } from './pages/leads.js';
import { nurturePage } from './pages/nurture.js';
import { pipelinePage } from './pages/pipeline.js';
import { privacyPage } from './pages/privacy.js';
import { routingPage } from './pages/routing.js';
import { scoringPage } from './pages/scoring.js';

export type SessionInfo = consoleApi.GetSessionResponse;
export interface PageContext {
  session: SessionInfo;
  /** The rest of the path after the page's own, e.g. a lead id. */
  rest: string;
  navigate(path: string): void;
}

const RENDERERS: Record<string, (ctx: PageContext) => Promise<HTMLElement>> = {
  '/leads': leadsPage,
  '/pipeline': pipelinePage,
  '/scoring': scoringPage,
  '/routing': routingPage,
  '/nurture': nurturePage,
  '/privacy': privacyPage,
};

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  let session: SessionInfo;
  try {
    session = await api.console.getSession({});
  } catch (err) {
    root.replaceChildren(h('main', { id: 'main' }, h('h1', {}, 'leadmesh console'), status(problem(err), 'error')));
    return;
  }
  const pages = pagesFor(session.scopes);
  const main = h('main', { id: 'main', tabindex: '-1' });
  const nav = h(
    'nav',
    { 'aria-label': 'Pages' },
    h('ul', {}, pages.map((p) => h('li', {}, h('a', { href: p.path, 'data-page': p.path }, p.title)))),
  );
  const header = h(
    'header',
    {},
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    h('p', { class: 'brand' }, 'leadmesh'),
    nav,
    h(
      'form',
      { method: 'post', action: '/auth/logout', class: 'user' },
      h('span', {}, `${session.name} (${session.groups.join(', ') || 'no group'})`),
      h('button', { type: 'submit' }, 'Sign out'),
    ),
  );
  root.replaceChildren(header, main);

  const navigate = (path: string) => {
    history.pushState(null, '', path);
    void render();
  };
  const render = async () => {
    const path = location.pathname === '/' ? (pages[0]?.path ?? '/') : location.pathname;
    const page = pages.find((p) => path === p.path || path.startsWith(`${p.path}/`));
    for (const a of nav.querySelectorAll('a')) {
      if (a.getAttribute('data-page') === page?.path) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (!page) {
      document.title = 'leadmesh console';
      main.replaceChildren(h('h1', {}, 'Nothing here for you'), h('p', {}, pages.length ? 'Choose a page above.' : 'Your account has no access to the console yet. Ask for a group.'));
      return;
    }
    document.title = `${page.title} - leadmesh console`;
    main.replaceChildren(h('h1', {}, page.question), status('Loading…'));
    try {
      const content = await RENDERERS[page.path]!({ session, rest: decodeURIComponent(path.slice(page.path.length + 1)), navigate });
      main.replaceChildren(h('h1', {}, page.question), content);
    } catch (err) {
      main.replaceChildren(h('h1', {}, page.question), status(problem(err), 'error'));
    }
  };
  // Links inside the console change the page without reloading it.
  document.addEventListener('click', (event) => {
    const a = (event.target as Element).closest?.('a');
    if (!a || a.target || a.origin !== location.origin || event.ctrlKey || event.metaKey || a.getAttribute('href')?.startsWith('#')) return;
    event.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener('popstate', () => void render());
  await render();
}

void start();
