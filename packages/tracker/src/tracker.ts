// The leadmesh browser tracker. A website embeds it with
//   <script src="leadmesh-tracker.js" data-site-key="pk_..." data-endpoint="https://intake.example.com" defer></script>
// and calls leadmesh.consent(true) from its consent banner. Until then it sets no cookie, stores
// nothing and sends nothing; with the Global Privacy Control signal on it never tracks at all.
// After consent: a first-party visitor id (cookie lm_vid), and page views, clicks on elements marked
// data-leadmesh-activity and views of forms marked data-leadmesh-form, sent in batches with
// navigator.sendBeacon to intake's beacon door. Marked forms get the visitor id as a hidden
// visitor_id field, so a Contact Sales submission is stitched to the visitor's earlier activity.

interface Activity {
  activityId: string;
  type: string;
  url: string;
  occurredAt: string;
}

type Call = [string, ...unknown[]];

const COOKIE = 'lm_vid';
const YEAR_SECONDS = 365 * 24 * 3600;
// Small batches: one beacon per second at most while the page is busy, the rest when it is hidden.
const BATCH_SIZE = 10;
const FLUSH_MS = 1000;

const w = window as unknown as { leadmesh?: unknown };
const d = document;
const script = d.currentScript as HTMLScriptElement | null;
const siteKey = script?.dataset.siteKey ?? '';
const endpoint = (script?.dataset.endpoint ?? '').replace(/\/$/, '');
const gpc = (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;

let on = false;
let queue: Activity[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
let visitor: string | undefined;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let id = '';
  for (const b of bytes) id += (b < 16 ? '0' : '') + b.toString(16);
  return id;
}

function readCookie(): string | undefined {
  const m = d.cookie.match(/(?:^|;\s*)lm_vid=([A-Za-z0-9._-]{1,128})/);
  return m ? m[1] : undefined;
}

function writeCookie(value: string, maxAge: number): void {
  d.cookie = `${COOKIE}=${value}; Max-Age=${maxAge}; Path=/; SameSite=Lax${location.protocol === 'https:' ? '; Secure' : ''}`;
}

// The page without its query and fragment: those can hold personal data (an email in a link).
const pageUrl = (href = location.href): string => {
  try {
    const u = new URL(href, location.href);
    return u.origin + u.pathname;
  } catch {
    return location.origin + location.pathname;
  }
};

function record(type: string, url = pageUrl()): void {
  if (!on) return;
  queue.push({ activityId: randomId(), type, url, occurredAt: new Date().toISOString() });
  if (queue.length >= BATCH_SIZE) flush();
  else if (!timer) timer = setTimeout(flush, FLUSH_MS);
}

function flush(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (!on || !queue.length || !visitor) return;
  const body = JSON.stringify({ visitorId: visitor, activities: queue });
  queue = [];
  const url = `${endpoint}/v1/activities?site_key=${encodeURIComponent(siteKey)}`;
  // text/plain keeps the beacon a simple CORS request (no preflight); intake reads it as JSON.
  const blob = new Blob([body], { type: 'text/plain' });
  if (!navigator.sendBeacon || !navigator.sendBeacon(url, blob)) {
    void fetch(url, { method: 'POST', body: blob, keepalive: true, mode: 'cors', credentials: 'omit' }).catch(() => undefined);
  }
}

function markForms(): void {
  d.querySelectorAll<HTMLFormElement>('form[data-leadmesh-form]').forEach((form) => {
    let input = form.querySelector<HTMLInputElement>('input[name="visitor_id"]');
    if (!input) {
      input = d.createElement('input');
      input.type = 'hidden';
      input.name = 'visitor_id';
      form.appendChild(input);
    }
    input.value = visitor ?? '';
    if (!visitor || form.dataset.leadmeshSeen) return;
    form.dataset.leadmeshSeen = '1';
    // A form counts as viewed once half of it has been on screen.
    if (typeof IntersectionObserver === 'undefined') return record('FORM_VIEWED');
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        observer.disconnect();
        record('FORM_VIEWED');
      }
    }, { threshold: 0.5 });
    observer.observe(form);
  });
}

function start(): void {
  if (on || gpc) return;
  visitor = readCookie() ?? randomId();
  writeCookie(visitor, YEAR_SECONDS);
  on = true;
  const meta = d.querySelector<HTMLMetaElement>('meta[name="leadmesh-activity"]');
  record(meta?.content || 'PAGE_VIEW');
  markForms();
}

function stop(): void {
  on = false;
  queue = [];
  visitor = undefined;
  if (readCookie()) writeCookie('', 0);
  markForms();
}

const api = {
  /** The site's consent banner: true starts tracking (and remembers it in the visitor cookie), false stops it and deletes the cookie. */
  consent(granted: boolean): void {
    if (granted) start();
    else stop();
  },
  /** The visitor id, once the visitor has consented. */
  visitorId(): string | undefined {
    return visitor;
  },
  /** Records an activity of the page's own (e.g. CONTENT_DOWNLOAD), only with consent. */
  track(type: string, url?: string): void {
    record(type, url ? pageUrl(url) : undefined);
  },
  /** What the page may show this visitor now (intake's personalization); undefined without consent. */
  async personalization(): Promise<unknown> {
    if (!on || !visitor) return undefined;
    flush();
    const res = await fetch(`${endpoint}/v1/personalization?site_key=${encodeURIComponent(siteKey)}&visitor=${visitor}`, { mode: 'cors', credentials: 'omit' });
    return res.ok ? res.json() : undefined;
  },
};

d.addEventListener('click', (event) => {
  const marked = (event.target as Element | null)?.closest?.<HTMLElement>('[data-leadmesh-activity]');
  if (marked) record(marked.dataset.leadmeshActivity!, (marked as HTMLAnchorElement).href || undefined);
}, true);
addEventListener('pagehide', flush);
d.addEventListener('visibilitychange', () => {
  if (d.visibilityState === 'hidden') flush();
});

// Calls queued before the script loaded (window.leadmesh = [['consent', true]]) run now.
const earlier = Array.isArray(w.leadmesh) ? (w.leadmesh as Call[]) : [];
w.leadmesh = api;
if (gpc) {
  // A visitor who asks not to be tracked keeps no identifier of ours from an earlier consent.
  if (readCookie()) writeCookie('', 0);
} else if (readCookie()) start();
for (const [name, ...args] of earlier) (api as Record<string, (...a: unknown[]) => unknown>)[name]?.(...args);
