// Hostile tokens at intake's two doors (gRPC and the web form) and nurture's Unsubscribe RPC, with
// authentication on as in every deployed environment: expired, without expiry, wrong issuer or
// audience, alg none, an HMAC token keyed with the public key, and a key id nobody published.
// Every one is UNAUTHENTICATED (HTTP 401), the service stays SERVING, and nothing is stored.
import { randomBytes } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { intake, nurture } from '@leadmesh/contracts';
import { createClient, generateSigningKey, mintToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@leadmesh/platform';
import { SignJWT, UnsecuredJWT, importJWK } from 'jose';
import { join } from 'node:path';
import { healthStatus, waitServing } from '../harness/health.ts';
import { ROOT, createStackAuth, grpcAddress, httpUrl, startService, stopService, type RunningService } from '../harness/stack.ts';
import { SHARED_MONGO, SHARED_NATS, databaseName, freshNamespace } from '../chaos/support.ts';
import { MongoClient } from 'mongodb';

const NAMESPACE = `hostile-tokens-${randomBytes(2).toString('hex')}`;
const OFFSET = 930;
let services: RunningService[] = [];
let key: Awaited<ReturnType<typeof generateSigningKey>>;
const hostile: Record<string, string> = {};

beforeAll(async () => {
  key = await generateSigningKey('current');
  const auth = await createStackAuth(key);
  const sign = async (build: (j: SignJWT) => SignJWT, alg = 'EdDSA', secret?: Uint8Array) =>
    build(new SignJWT({ scope: 'leads:submit nurture:unsubscribe' }).setProtectedHeader({ alg, kid: key.kid })).sign(secret ?? (await importJWK(key.privateJwk, 'EdDSA')));
  const past = Math.floor(Date.now() / 1000) - 120;
  hostile.expired = await sign((j) => j.setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:x').setIssuedAt(past - 3600).setExpirationTime(past));
  hostile['no expiry'] = await sign((j) => j.setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:x').setIssuedAt());
  hostile['wrong issuer'] = await sign((j) => j.setIssuer('evil').setAudience(TOKEN_AUDIENCE).setSubject('team:x').setExpirationTime('1h'));
  hostile['wrong audience'] = await sign((j) => j.setIssuer(TOKEN_ISSUER).setAudience('other-api').setSubject('team:x').setExpirationTime('1h'));
  hostile['alg none'] = new UnsecuredJWT({ scope: 'leads:submit nurture:unsubscribe' }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:x').setExpirationTime('1h').encode();
  hostile['HS256 keyed with the public key'] = await sign(
    (j) => j.setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:x').setExpirationTime('1h'),
    'HS256',
    new TextEncoder().encode(JSON.stringify(key.jwks.keys[0])),
  );
  hostile['unknown kid'] = await mintToken(await generateSigningKey('never-published'), { subject: 'team:x', scopes: ['leads:submit', 'nurture:unsubscribe'] });
  await freshNamespace(NAMESPACE, SHARED_NATS, SHARED_MONGO);
  const logDir = join(ROOT, '.cache', 'logs', NAMESPACE);
  services = (['intake', 'nurture'] as const).map((name) => startService(name, { namespace: NAMESPACE, portOffset: OFFSET, auth, logDir, env: { OTEL_SDK_DISABLED: 'true' } }));
  await Promise.all((['intake', 'nurture'] as const).map((name) => waitServing(grpcAddress(name, OFFSET), 120_000)));
}, 180_000);

afterAll(async () => {
  await Promise.all(services.map((s) => stopService(s)));
});

const kinds = () => Object.keys(hostile);

test.each(['expired', 'no expiry', 'wrong issuer', 'wrong audience', 'alg none', 'HS256 keyed with the public key', 'unknown kid'])('a token %s is refused at every door', async (kind) => {
  expect(kinds()).toContain(kind);
  const token = hostile[kind]!;
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const marker = randomBytes(6).toString('hex');
  const intakeClient = createClient(intake.IntakeService, grpcAddress('intake', OFFSET));
  const nurtureClient = createClient(nurture.NurtureService, grpcAddress('nurture', OFFSET));
  try {
    const submitted = await intakeClient.submitLead({ contact: { email: `${marker}@example.org` }, source: { formId: 'contact-sales' } }, { metadata }).catch((e: { code: number }) => e);
    expect((submitted as { code: number }).code).toBe(status.UNAUTHENTICATED);
    const unsubscribed = await nurtureClient.unsubscribe({ subject: { case: 'leadId', value: '00000000-0000-4000-8000-000000000000' } }, { metadata }).catch((e: { code: number }) => e);
    expect((unsubscribed as { code: number }).code).toBe(status.UNAUTHENTICATED);
  } finally {
    intakeClient.close();
    nurtureClient.close();
  }
  const form = await fetch(`${httpUrl('intake', OFFSET)}/v1/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
    body: `email=${marker}%40example.org`,
  });
  expect(form.status).toBe(401);
  expect(await healthStatus(grpcAddress('intake', OFFSET))).toBe('SERVING');
  const mongo = await new MongoClient(SHARED_MONGO).connect();
  try {
    const db = mongo.db(databaseName(NAMESPACE, 'intake'));
    expect(await db.collection('contacts').countDocuments({ email: `${marker}@example.org` })).toBe(0);
  } finally {
    await mongo.close();
  }
});
