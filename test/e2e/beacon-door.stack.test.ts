// intake's beacon door (POST /v1/activities) over HTTP, on two intake replicas sharing one store:
// the site key's origins and CORS for exactly them, RecordActivity's rules with each bad field
// named and nothing of a refused batch stored, a re-sent batch stored once, crawlers dropped, the
// per-visitor limit counted across both replicas, and a lead's visitor's activity published.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { intake } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { eventually } from '../harness/eventually.ts';
import { waitServing } from '../harness/health.ts';
import { ROOT, allScopes, createStackAuth, grpcAddress, httpUrl, startService, stopService, type RunningService } from '../harness/stack.ts';

const OFFSETS = [720, 721] as const;
const NAMESPACE = 'beacon-door';
const SITE_KEY = 'pk_beacon_door_test';
const ORIGIN = 'https://www.example-analytics.com';
const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const VISITOR_LIMIT = 20;

let services: RunningService[] = [];
const auth = await createStackAuth();
const token = await auth.token(await allScopes(), 'team:web-analytics');
const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSETS[0]), { token, timeoutMs: 10_000 });
const mongo = new MongoClient('mongodb://127.0.0.1:27017/');
const activities = () => mongo.db('leadmesh_beacon_door_intake').collection('activities');

beforeAll(async () => {
  services = OFFSETS.map((offset) =>
    startService('intake', {
      namespace: NAMESPACE,
      portOffset: offset,
      auth,
      logDir: `${ROOT}/.cache/logs/${NAMESPACE}-${offset}`,
      env: { TRACKER_SITE_KEYS: JSON.stringify({ [SITE_KEY]: [ORIGIN] }), BEACON_VISITOR_LIMIT_PER_MINUTE: String(VISITOR_LIMIT) },
    }),
  );
  await Promise.all(OFFSETS.map((offset) => waitServing(grpcAddress('intake', offset), 90_000)));
  await mongo.connect();
}, 120_000);

afterAll(async () => {
  intakeClient.close();
  await mongo.close();
  await Promise.all(services.map((s) => stopService(s)));
});

const activity = (type = 'PAGE_VIEW', url = `${ORIGIN}/pricing`) => ({ activityId: randomBytes(8).toString('hex'), type, url, occurredAt: new Date().toISOString() });

function post(body: unknown, options: { replica?: 0 | 1; origin?: string | null; siteKey?: string; userAgent?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': options.userAgent ?? HUMAN_UA };
  if (options.origin !== null) headers.origin = options.origin ?? ORIGIN;
  return fetch(`${httpUrl('intake', OFFSETS[options.replica ?? 0])}/v1/activities?site_key=${options.siteKey ?? SITE_KEY}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

const stored = (visitorId: string) => activities().countDocuments({ visitorId });

describe('the beacon door', () => {
  it('answers CORS for exactly the site key\'s origins and refuses the rest', async () => {
    const preflight = await fetch(`${httpUrl('intake', OFFSETS[0])}/v1/activities?site_key=${SITE_KEY}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('vary')).toMatch(/Origin/);

    const foreign = await fetch(`${httpUrl('intake', OFFSETS[0])}/v1/activities?site_key=${SITE_KEY}`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const visitorId = `v-${randomBytes(6).toString('hex')}`;
    const batch = { visitorId, activities: [activity()] };
    const wrongOrigin = await post(batch, { origin: 'https://www.example-analytics.com.evil.example' });
    expect(wrongOrigin.status).toBe(403);
    expect((await wrongOrigin.json()).error).toMatch(/^Origin: .* not allowed/);
    const noOrigin = await post(batch, { origin: null });
    expect(noOrigin.status).toBe(403);
    const unknownKey = await post(batch, { siteKey: 'pk_nobody_knows_this' });
    expect(unknownKey.status).toBe(401);
    expect((await unknownKey.json()).error).toMatch(/^site_key/);
    expect(await stored(visitorId)).toBe(0);

    const accepted = await post(batch);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await accepted.json()).toEqual({ stored: 1, repeated: 0, known: false });
    expect(await stored(visitorId)).toBe(1);
  });

  it('refuses a batch with a bad activity whole, naming the field, and stores a re-sent batch once', async () => {
    const visitorId = `v-${randomBytes(6).toString('hex')}`;
    const bad = await post({ visitorId, activities: [activity(), activity('EMAIL_CLICKED'), activity('PAGE_VIEW', 'not a url')] });
    expect(bad.status).toBe(400);
    const { violations } = (await bad.json()) as { violations: { field: string; description: string }[] };
    expect(violations.map((v) => v.field)).toEqual(['activities[1].type']);
    // The proto's own rule (RecordActivityRequest.url is a URI), once the batch reads well.
    const badUrl = await post({ visitorId, activities: [activity(), activity('PAGE_VIEW', 'not a url')] });
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as { violations: { field: string }[] }).violations.map((v) => v.field)).toEqual(['activities[1].url']);
    expect(await stored(visitorId)).toBe(0);

    const batch = { visitorId, activities: [activity(), activity('PRICING_PAGE_VIEW'), activity('FORM_VIEWED')] };
    expect(await (await post(batch)).json()).toEqual({ stored: 3, repeated: 0, known: false });
    // The same beacon again, on the other replica (a browser's retry).
    expect(await (await post(batch, { replica: 1 })).json()).toEqual({ stored: 0, repeated: 3, known: false });
    expect(await stored(visitorId)).toBe(3);
    const doc = await activities().findOne({ visitorId, type: 'ACTIVITY_TYPE_PRICING_PAGE_VIEW' });
    expect(doc).toMatchObject({ url: `${ORIGIN}/pricing` });
    expect(doc).not.toHaveProperty('leadId');
  });

  it('drops a crawler\'s beacons without storing them', async () => {
    const visitorId = `v-${randomBytes(6).toString('hex')}`;
    for (const userAgent of ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36']) {
      expect((await post({ visitorId, activities: [activity()] }, { userAgent })).status).toBe(204);
    }
    expect(await stored(visitorId)).toBe(0);
  });

  it('limits a visitor across both replicas, refusing the batch over the limit whole', async () => {
    const visitorId = `v-${randomBytes(6).toString('hex')}`;
    const batch = (n: number) => ({ visitorId, activities: Array.from({ length: n }, () => activity()) });
    expect((await post(batch(15), { replica: 0 })).status).toBe(202);
    const over = await post(batch(10), { replica: 1 });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await over.json()).error).toMatch(/visitor/);
    expect(await stored(visitorId)).toBe(15);
    // Another visitor from the same address is not held back by this one.
    expect((await post({ visitorId: `${visitorId}-2`, activities: [activity()] }, { replica: 1 })).status).toBe(202);
  });

  it('records a lead\'s visitor\'s activity for the lead, with its event', async () => {
    const visitorId = `v-${randomBytes(6).toString('hex')}`;
    const { leadId } = await intakeClient.submitLead({ visitorId, contact: { email: `beacon.${visitorId}@example-analytics.com` }, source: { formId: 'contact-sales' } });
    const answer = await post({ visitorId, activities: [activity('PRICING_PAGE_VIEW')] });
    expect(await answer.json()).toEqual({ stored: 1, repeated: 0, known: true });
    const doc = await activities().findOne({ visitorId, type: 'ACTIVITY_TYPE_PRICING_PAGE_VIEW' });
    expect(doc).toMatchObject({ leadId });
    // Published (it is what scoring counts), then cleared from the outbox by the next clearing pass.
    await eventually('the published activity cleared from the outbox', async () => ((await activities().findOne({ _id: doc!._id }))?.outbox.length === 0 ? true : undefined), 10_000);
  });
});
