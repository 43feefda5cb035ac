// intake's web form door (POST /v1/leads) against abuse (issue 13, item 11), on two intake replicas
// sharing one store: a form key submits its own form from its own origins only, a filled honeypot
// is answered like a success with nothing stored, and submissions made with a public key are
// limited per recipient, per client address and per form key, counted across both replicas; a
// refused one is 429 with Retry-After, stores nothing, and no window names an address or an email.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { waitServing } from '../harness/health.ts';
import { METRICS_PORTS, ROOT, createStackAuth, grpcAddress, httpUrl, startService, stopService, type RunningService } from '../harness/stack.ts';

const OFFSETS = [750, 751] as const;
const NAMESPACE = 'web-form-door';
const ORIGIN = 'https://www.example-analytics.com';
const CONTACT_SALES_KEY = 'fk_contact_sales_test';
const WEBINAR_KEY = 'fk_webinar_signup_test';
const NEWSLETTER_KEY = 'fk_newsletter_test';
const SITE_KEY = 'pk_web_form_door_site';
const RECIPIENT_LIMIT = 3;
const ADDRESS_LIMIT = 4;
const KEY_LIMIT = 12;

let services: RunningService[] = [];
const auth = await createStackAuth();
const serverToken = await auth.token(['leads:submit'], 'team:web-backend');
const mongo = new MongoClient('mongodb://127.0.0.1:27017/');
const db = () => mongo.db('leadmesh_web_form_door_intake');

beforeAll(async () => {
  await mongo.connect();
  // Windows a rerun within the same day would otherwise find still open.
  await db().collection('rate_windows').drop().catch(() => undefined);
  services = OFFSETS.map((offset) =>
    startService('intake', {
      namespace: NAMESPACE,
      portOffset: offset,
      auth,
      logDir: `${ROOT}/.cache/logs/${NAMESPACE}-${offset}`,
      env: {
        WEB_FORM_KEYS: JSON.stringify({
          [CONTACT_SALES_KEY]: { form: 'contact-sales', origins: [ORIGIN] },
          [WEBINAR_KEY]: { form: 'webinar-signup', origins: [ORIGIN] },
          [NEWSLETTER_KEY]: { form: 'newsletter', origins: [ORIGIN] },
        }),
        TRACKER_SITE_KEYS: JSON.stringify({ [SITE_KEY]: [ORIGIN] }),
        HTTP_TRUST_PROXY: 'true',
        WEB_FORM_RECIPIENT_LIMIT_PER_DAY: String(RECIPIENT_LIMIT),
        WEB_FORM_ADDRESS_LIMIT_PER_HOUR: String(ADDRESS_LIMIT),
        WEB_FORM_KEY_LIMIT_PER_MINUTE: String(KEY_LIMIT),
      },
    }),
  );
  await Promise.all(OFFSETS.map((offset) => waitServing(grpcAddress('intake', offset), 90_000)));
}, 120_000);

afterAll(async () => {
  await mongo.close();
  await Promise.all(services.map((s) => stopService(s)));
});

const tag = () => randomBytes(5).toString('hex');
const emailOf = (name: string) => `${name}.${tag()}@example-analytics.com`;
// A visitor's address as the load balancer forwards it: new ones every run.
const address = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

interface Post {
  replica?: 0 | 1;
  formKey?: string | null;
  origin?: string | null;
  from?: string;
  query?: string;
  headers?: Record<string, string>;
}

function post(fields: Record<string, string>, options: Post = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': options.from ?? address(), ...options.headers };
  if (options.origin !== null) headers.origin = options.origin ?? ORIGIN;
  const query = options.query ?? (options.formKey === null ? '' : `?form_key=${options.formKey ?? CONTACT_SALES_KEY}`);
  return fetch(`${httpUrl('intake', OFFSETS[options.replica ?? 0])}/v1/leads${query}`, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
}

const person = (email: string, extra: Record<string, string> = {}) => ({ email, last_name: 'Lovelace', company: 'Example Analytics', ...extra });

async function storedFor(email: string): Promise<{ contacts: number; submissions: number }> {
  const contacts = await db().collection('contacts').find({ emailKey: email.toLowerCase() }).toArray();
  const submissions = contacts.length ? await db().collection('submissions').countDocuments({ leadId: { $in: contacts.map((c) => c._id) } }) : 0;
  return { contacts: contacts.length, submissions };
}

/**
 * Starts a run of submissions early enough in a window of `windowMs` that it ends in the same
 * window: a fixed window that turned over half-way would count the run in two.
 */
async function inOneWindow(windowMs: number, needMs = 15_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

async function expectLimited(res: Response, limit: RegExp, secrets: string[]): Promise<void> {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  const text = await res.text();
  expect(JSON.parse(text).error).toMatch(limit);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('the web form door: form keys', () => {
  it('takes a submission with its form key from its origin, as its form, and answers CORS for that origin', async () => {
    const email = emailOf('formkey');
    const res = await post(person(email));
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const { leadId } = (await res.json()) as { leadId: string };
    const submission = await db().collection('submissions').findOne({ leadId });
    expect(submission?.source).toMatchObject({ formId: 'contact-sales' });

    const preflight = await fetch(`${httpUrl('intake', OFFSETS[1])}/v1/leads?form_key=${CONTACT_SALES_KEY}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const foreign = await fetch(`${httpUrl('intake', OFFSETS[1])}/v1/leads?form_key=${CONTACT_SALES_KEY}`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a form key from another origin, without an origin, an unknown key and a site key, storing nothing', async () => {
    const email = emailOf('origin');
    const wrongOrigin = await post(person(email), { origin: 'https://www.example-analytics.com.evil.example' });
    expect(wrongOrigin.status).toBe(403);
    expect(wrongOrigin.headers.get('access-control-allow-origin')).toBeNull();
    expect((await wrongOrigin.json()).error).toMatch(/^Origin: .* not allowed/);
    expect((await post(person(email), { origin: null })).status).toBe(403);
    expect((await post(person(email), { origin: 'null' })).status).toBe(403);
    const unknown = await post(person(email), { formKey: 'fk_nobody_knows_this' });
    expect(unknown.status).toBe(401);
    expect((await unknown.json()).error).toMatch(/^form_key/);
    // The tracker's key is public for beacons; it submits no lead.
    expect((await post(person(email), { formKey: SITE_KEY })).status).toBe(401);
    expect(await storedFor(email)).toEqual({ contacts: 0, submissions: 0 });
  });

  it("refuses a form key used for another form, storing nothing", async () => {
    const email = emailOf('otherform');
    const res = await post(person(email, { form_id: 'webinar-signup' }), { formKey: CONTACT_SALES_KEY });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatch(/another form/);
    expect(await storedFor(email)).toEqual({ contacts: 0, submissions: 0 });
    // The webinar's own key takes it.
    expect((await post(person(email, { form_id: 'webinar-signup' }), { formKey: WEBINAR_KEY })).status).toBe(201);
  });

  it('refuses the retired general token in the URL, and still takes a server\'s bearer token in its header', async () => {
    const email = emailOf('querytoken');
    const retired = await post(person(email), { query: `?key=${serverToken}`, origin: null });
    expect(retired.status).toBe(401);
    expect((await retired.json()).error).toMatch(/form_key/);
    expect(await storedFor(email)).toEqual({ contacts: 0, submissions: 0 });
    // A site's backend is one address for all its visitors: limited like a gRPC caller, not per address.
    const backend = address();
    for (let i = 0; i <= ADDRESS_LIMIT; i += 1) {
      const res = await post(person(emailOf('backend')), { formKey: null, origin: null, from: backend, headers: { authorization: `Bearer ${serverToken}` } });
      expect(res.status).toBe(201);
    }
  });
});

describe('the web form door: honeypot', () => {
  it('answers a filled honeypot like a success, stores and sends nothing, and counts it', async () => {
    const email = emailOf('bot');
    const res = await post(person(email, { company_url: 'https://cheap-pills.example' }), { replica: 1 });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { leadId: string; submissionId: string; outcome: string; notices: unknown[] };
    expect(answer).toEqual({ leadId: expect.stringMatching(/^[0-9a-f-]{36}$/), submissionId: expect.stringMatching(/^[0-9a-f-]{36}$/), outcome: 'NEW_LEAD', notices: [] });
    expect(await storedFor(email)).toEqual({ contacts: 0, submissions: 0 });
    expect(await db().collection('submissions').countDocuments({ _id: answer.submissionId as never })).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${METRICS_PORTS.intake + OFFSETS[1]}/metrics`)).text();
    expect(metrics).toMatch(/leadmesh_web_form_refused_total\{reason="honeypot"[^}]*\} [1-9]/);

    // A person leaves it empty and is taken.
    const human = emailOf('human');
    expect((await post(person(human, { company_url: '' }), { replica: 1 })).status).toBe(201);
    expect(await storedFor(human)).toEqual({ contacts: 1, submissions: 1 });
  });
});

describe('the web form door: limits shared by the replicas', () => {
  it('limits one recipient, whatever address and replica the submissions come from', async () => {
    await inOneWindow(86_400_000);
    const email = emailOf('victim');
    const addresses = Array.from({ length: RECIPIENT_LIMIT + 1 }, address);
    for (let i = 0; i < RECIPIENT_LIMIT; i += 1) {
      expect((await post(person(email), { from: addresses[i], replica: (i % 2) as 0 | 1 })).status).toBe(201);
    }
    const over = await post(person(email), { from: addresses[RECIPIENT_LIMIT], replica: 1 });
    await expectLimited(over, /recipient/, [email, addresses[RECIPIENT_LIMIT]!]);
    expect(over.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await storedFor(email)).toEqual({ contacts: 1, submissions: RECIPIENT_LIMIT });
    // The same address, for someone else, is not held back by this recipient.
    expect((await post(person(emailOf('other')), { from: addresses[RECIPIENT_LIMIT], replica: 0 })).status).toBe(201);

    // The windows name neither the address nor the recipient in clear.
    const windows = JSON.stringify(await db().collection('rate_windows').find({}).toArray());
    expect(windows).toMatch(/recipient:/);
    expect(windows).not.toContain(email);
    expect(windows).not.toContain(email.split('@')[0]!);
    for (const a of addresses) expect(windows).not.toContain(a);
  });

  it('limits one client address, whatever recipients and replica', async () => {
    await inOneWindow(3_600_000);
    const from = address();
    const emails = Array.from({ length: ADDRESS_LIMIT + 1 }, () => emailOf('spray'));
    for (let i = 0; i < ADDRESS_LIMIT; i += 1) {
      expect((await post(person(emails[i]!), { from, replica: (i % 2) as 0 | 1, formKey: WEBINAR_KEY })).status).toBe(201);
    }
    const over = await post(person(emails[ADDRESS_LIMIT]!), { from, replica: 0, formKey: WEBINAR_KEY });
    await expectLimited(over, /address/, [from, emails[ADDRESS_LIMIT]!]);
    expect(await storedFor(emails[ADDRESS_LIMIT]!)).toEqual({ contacts: 0, submissions: 0 });
    // Another address goes on.
    expect((await post(person(emails[ADDRESS_LIMIT]!), { replica: 1, formKey: WEBINAR_KEY })).status).toBe(201);
  });

  it('limits one form key across both replicas', async () => {
    await inOneWindow(60_000);
    for (let i = 0; i < KEY_LIMIT; i += 1) {
      expect((await post(person(emailOf('key')), { formKey: NEWSLETTER_KEY, replica: (i % 2) as 0 | 1 })).status).toBe(201);
    }
    const email = emailOf('key');
    const over = await post(person(email), { formKey: NEWSLETTER_KEY, replica: 1 });
    await expectLimited(over, /form key/, [email]);
    expect(await storedFor(email)).toEqual({ contacts: 0, submissions: 0 });
    const metrics = await (await fetch(`http://127.0.0.1:${METRICS_PORTS.intake + OFFSETS[1]}/metrics`)).text();
    expect(metrics).toMatch(/leadmesh_web_form_refused_total\{reason="form-key"[^}]*\} [1-9]/);
  });
});
