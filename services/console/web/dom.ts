// Small helpers to build the page from elements and text nodes only: nothing from a lead or a
// service is ever parsed as HTML.
type Child = Node | string | number | false | null | undefined;
type Attrs = Record<string, string | boolean | EventListener | undefined>;

export function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function when(t: { seconds: bigint; nanos: number } | undefined): string {
  if (!t) return '';
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A status line that screen readers announce. */
export function status(text: string, kind: 'info' | 'error' | 'ok' = 'info'): HTMLElement {
  return h('p', { class: `status ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function table(caption: string, head: string[], rows: Child[][]): HTMLElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))),
  );
}

export function link(href: string, text: string, attrs: Attrs = {}): HTMLElement {
  return h('a', { href, ...attrs }, text);
}
