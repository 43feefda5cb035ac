// The demo website: a small marketing site with the leadmesh tracker, a consent banner, a pricing
// page and the Contact Sales form, so anyone can watch a visitor become a lead (npm start serves it
// on http://127.0.0.1:8081; the browser stack test drives it). Plain node:http, no framework: it
// stands for any website. The form posts to this site's own backend, which holds the form's token
// (leads:submit only) and forwards the submission to intake's web-form door, as a real site would.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TRACKER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'tracker', 'dist', 'leadmesh-tracker.js');

export interface DemoSiteOptions {
  port: number;
  host?: string;
  /** intake's HTTP door as browsers reach it, e.g. http://127.0.0.1:8080. */
  intakeUrl: string;
  /** The public site key bound to this site's origin in intake's TRACKER_SITE_KEYS. */
  siteKey: string;
  /** A token with leads:submit only, kept on the server side. */
  formToken: string;
}

export interface DemoSite {
  url: string;
  close(): Promise<void>;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(options: DemoSiteOptions, title: string, body: string, activity?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)} | Example Analytics</title>
${activity ? `<meta name="leadmesh-activity" content="${activity}">` : ''}
<script src="/leadmesh-tracker.js" data-site-key="${escape(options.siteKey)}" data-endpoint="${escape(options.intakeUrl)}" defer></script>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}nav a{margin-right:1rem}
#consent{position:fixed;bottom:0;left:0;right:0;background:#222;color:#fff;padding:1rem;display:none}
#personalized{border:1px solid #ccc;padding:1rem;margin:1rem 0}label{display:block;margin:.5rem 0}.hp{position:absolute;left:-10000px}</style>
</head><body>
<nav><a href="/">Home</a><a href="/pricing">Pricing</a><a href="/contact-sales">Contact Sales</a></nav>
<h1>${escape(title)}</h1>
${body}
<div id="personalized" hidden></div>
<div id="consent" role="dialog" aria-label="Cookie consent">
  We would like to measure which pages you visit to tailor this site and our offers to you.
  <button id="consent-accept">Accept</button> <button id="consent-decline">Decline</button>
</div>
<script>
// The site's own consent banner: it calls the tracker and remembers a refusal for this tab only.
addEventListener('DOMContentLoaded', function () {
  var banner = document.getElementById('consent');
  var decided = /(^|; )lm_vid=/.test(document.cookie) || sessionStorage.getItem('consent-declined');
  if (!decided) banner.style.display = 'block';
  function personalize() {
    leadmesh.personalization().then(function (p) {
      if (!p) return;
      var box = document.getElementById('personalized');
      box.hidden = false;
      box.dataset.band = p.gradeBand;
      box.dataset.cta = p.callToAction.id;
      box.innerHTML = '<a href="' + p.callToAction.path + '">' + p.callToAction.label + '</a>';
    }).catch(function () {});
  }
  document.getElementById('consent-accept').onclick = function () { leadmesh.consent(true); banner.style.display = 'none'; personalize(); };
  document.getElementById('consent-decline').onclick = function () { leadmesh.consent(false); sessionStorage.setItem('consent-declined', '1'); banner.style.display = 'none'; };
  if (leadmesh.visitorId()) personalize();
});
</script>
</body></html>`;
}

const PAGES: Record<string, { title: string; body: string; activity?: string }> = {
  '/': {
    title: 'Analytics your engineers will like',
    body: '<p>Example Analytics turns your product data into answers.</p><p><a href="/guides/getting-started.pdf" data-leadmesh-activity="CONTENT_DOWNLOAD">Download the getting-started guide</a></p>',
  },
  '/pricing': {
    title: 'Pricing',
    activity: 'PRICING_PAGE_VIEW',
    body: '<table><tr><th>Team</th><td>$99 / month</td></tr><tr><th>Business</th><td>$499 / month</td></tr><tr><th>Enterprise</th><td><a href="/contact-sales">Talk to us</a></td></tr></table>',
  },
  '/contact-sales': {
    title: 'Contact Sales',
    body: `<form method="post" action="/contact-sales" data-leadmesh-form="contact-sales">
<input type="hidden" name="form_id" value="contact-sales">
<label>Work email <input name="email" type="email" required></label>
<label>First name <input name="first_name"></label>
<label>Last name <input name="last_name"></label>
<label>Company <input name="company"></label>
<label>Job title <input name="job_title"></label>
<label>Industry <input name="industry"></label>
<label>Company size <input name="company_size" inputmode="numeric"></label>
<label>Country <input name="country"></label>
<label><input type="checkbox" name="consent_email_marketing"> Send me product news (you can unsubscribe at any time)</label>
<input type="hidden" name="consent_wording_version" value="2026-01">
<!-- The honeypot (intake's WEB_FORM_HONEYPOT_FIELD): off screen and out of the tab order, so people leave it empty. -->
<div class="hp" aria-hidden="true"><label>Company website <input name="company_url" tabindex="-1" autocomplete="off"></label></div>
<button type="submit">Talk to sales</button>
</form>`,
  },
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function submit(options: DemoSiteOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = new URLSearchParams(await readBody(req));
  form.set('page_url', `${siteOrigin(req, options)}/contact-sales`);
  const answer = await fetch(`${options.intakeUrl}/v1/leads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.formToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const json = (await answer.json()) as { leadId?: string; error?: string; violations?: { field: string; description: string }[] };
  const body = answer.ok
    ? `<p id="thanks" data-lead-id="${escape(json.leadId ?? '')}">Thank you: a member of our sales team will be in touch shortly.</p>`
    : `<p id="form-error">We could not take your request: ${escape(json.error ?? String(answer.status))}</p><ul>${(json.violations ?? []).map((v) => `<li>${escape(v.field)}: ${escape(v.description)}</li>`).join('')}</ul>`;
  send(res, answer.ok ? 200 : 400, page(options, answer.ok ? 'Thank you' : 'Contact Sales', body));
}

const siteOrigin = (req: IncomingMessage, options: DemoSiteOptions) => `http://${req.headers.host ?? `127.0.0.1:${options.port}`}`;

function send(res: ServerResponse, status: number, html: string, type = 'text/html; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(html);
}

export async function startDemoSite(options: DemoSiteOptions): Promise<DemoSite> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    if (req.method === 'POST' && path === '/contact-sales') {
      submit(options, req, res).catch(() => send(res, 502, page(options, 'Contact Sales', '<p id="form-error">Please try again in a moment.</p>')));
      return;
    }
    if (path === '/leadmesh-tracker.js') return send(res, 200, readFileSync(TRACKER, 'utf8'), 'text/javascript; charset=utf-8');
    const known = PAGES[path];
    if (!known || req.method !== 'GET') return send(res, 404, page(options, 'Not found', '<p>No such page.</p>'));
    send(res, 200, page(options, known.title, known.body, known.activity));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${options.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
