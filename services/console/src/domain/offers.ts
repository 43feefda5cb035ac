// What the console offers a person, from the scopes the services will see on their token. Hiding is
// only courtesy: each service refuses a call without its scope whatever the page shows.

export interface Page {
  path: string;
  title: string;
  /** The business question the page answers. */
  question: string;
  /** Any one of these scopes opens the page. */
  anyOf: string[];
}

export const PAGES: Page[] = [
  { path: '/leads', title: 'Leads', question: 'What happened to this lead?', anyOf: ['leads:read'] },
  { path: '/pipeline', title: 'Pipeline', question: 'Is data moving?', anyOf: ['leads:read', 'events:replay', 'crm:replay'] },
  { path: '/scoring', title: 'Scoring', question: 'What if we change scoring?', anyOf: ['rules:admin', 'scoring:preview'] },
  { path: '/routing', title: 'Routing', question: 'Who gets the leads?', anyOf: ['owners:admin', 'routing:preview'] },
  { path: '/nurture', title: 'Emails', question: 'What are we sending?', anyOf: ['leads:read'] },
  { path: '/privacy', title: 'Privacy', question: 'Erase a person everywhere', anyOf: ['privacy:erase'] },
];

export function pagesFor(scopes: readonly string[]): Page[] {
  return PAGES.filter((page) => page.anyOf.some((scope) => scopes.includes(scope)));
}

/** The actions on the pages, each with the scope its service checks. */
export const ACTIONS = {
  replayParkedEvent: 'events:replay',
  replayCrmDeadLetter: 'crm:replay',
  activateRuleSet: 'rules:admin',
  previewRuleSet: 'scoring:preview',
  previewRoute: 'routing:preview',
  listOwners: 'owners:admin',
  editOwner: 'owners:admin',
  erase: 'privacy:erase',
} as const;

export function may(scopes: readonly string[], action: keyof typeof ACTIONS): boolean {
  return scopes.includes(ACTIONS[action]);
}
