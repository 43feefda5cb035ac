// The client against an in-process IntakeService double: token, deadlines, retries with backoff
// and the server's retry-after-ms, and the idempotency key that makes those retries safe.
import * as grpc from '@grpc/grpc-js';
import { createLeadmeshClient, type LeadmeshClient } from '../src/index.js';
import { startFakeIntake, type FakeIntake } from './fake-intake.js';

let fake: FakeIntake;
let client: LeadmeshClient;
const fastRetry = { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 50 };

beforeEach(async () => {
  fake = await startFakeIntake();
});
afterEach(async () => {
  client?.close();
  await fake.close();
});

const connect = (options: Parameters<typeof createLeadmeshClient>[0] = {}) =>
  (client = createLeadmeshClient({ addresses: { intake: fake.address }, retry: fastRetry, ...options }));
const submit = (c: LeadmeshClient, extra: Record<string, unknown> = {}) => c.intake.submitLead({ contact: { email: 'ada@example.com' }, ...extra });

describe('credentials', () => {
  it('sends the token as a bearer authorization header on every call', async () => {
    await submit(connect({ token: 'team-analytics-key' }));
    expect(fake.received[0]!.metadata.get('authorization')).toEqual(['Bearer team-analytics-key']);
  });

  it('asks a token function on each call, so a refreshed JWT is used as soon as it exists', async () => {
    let n = 0;
    const c = connect({ token: async () => `jwt-${++n}` });
    await submit(c);
    await submit(c);
    expect(fake.received.map((r) => r.metadata.get('authorization')[0])).toEqual(['Bearer jwt-1', 'Bearer jwt-2']);
  });

  it('sends no authorization header without a token, and keeps the caller’s own metadata', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    await connect().intake.submitLead({ contact: { email: 'ada@example.com' } }, { metadata });
    expect(fake.received[0]!.metadata.get('authorization')).toEqual([]);
    expect(fake.received[0]!.metadata.get('traceparent')).toHaveLength(1);
  });
});

describe('deadlines', () => {
  it('puts the default deadline on a call and fails with DEADLINE_EXCEEDED, without retrying it', async () => {
    fake.script = () => 'hang';
    const started = Date.now();
    const err = await submit(connect({ timeoutMs: 300 })).catch((e) => e);
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]!.deadline).not.toBe(Infinity);
  });

  it('lets one call set its own deadline', async () => {
    fake.script = () => 'hang';
    const c = connect({ timeoutMs: 10_000 });
    const started = Date.now();
    const err = await c.intake.submitLead({ contact: { email: 'ada@example.com' } }, { timeoutMs: 150 }).catch((e) => e);
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

describe('retries', () => {
  it('retries UNAVAILABLE and RESOURCE_EXHAUSTED with the same idempotency key until the call succeeds', async () => {
    fake.script = (n) =>
      n === 0 ? { code: grpc.status.UNAVAILABLE, details: 'restarting' } : n === 1 ? { code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down' } : { leadId: 'lead-7' };
    const response = await submit(connect());
    expect(response.leadId).toBe('lead-7');
    expect(fake.received).toHaveLength(3);
    const keys = new Set(fake.received.map((r) => r.request.idempotencyKey));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the caller’s idempotency key', async () => {
    await submit(connect(), { idempotencyKey: 'form-42' });
    expect(fake.received[0]!.request.idempotencyKey).toBe('form-42');
  });

  it('waits as long as the server says in retry-after-ms before trying again', async () => {
    fake.script = (n) => (n === 0 ? { code: grpc.status.RESOURCE_EXHAUSTED, details: 'rate limited', trailers: { 'retry-after-ms': '400' } } : { leadId: 'lead-2' });
    await submit(connect());
    expect(fake.received).toHaveLength(2);
    expect(fake.received[1]!.at - fake.received[0]!.at).toBeGreaterThanOrEqual(390);
  });

  it('gives up after maxAttempts and returns the last error', async () => {
    fake.script = () => ({ code: grpc.status.UNAVAILABLE, details: 'down for good' });
    const err = await submit(connect({ retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 10 } })).catch((e) => e);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toBe('down for good');
    expect(fake.received).toHaveLength(3);
  });

  it('does not retry errors that another attempt cannot fix', async () => {
    const c = connect();
    for (const code of [grpc.status.INVALID_ARGUMENT, grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.NOT_FOUND]) {
      fake.received.length = 0;
      fake.script = () => ({ code, details: 'no' });
      const err = await submit(c).catch((e) => e);
      expect({ code: err.code, attempts: fake.received.length }).toEqual({ code, attempts: 1 });
    }
  });

  it('stops waiting for a retry when the caller aborts', async () => {
    fake.script = () => ({ code: grpc.status.UNAVAILABLE, details: 'down', trailers: { 'retry-after-ms': '1500' } });
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 100);
    const err = await connect().intake.submitLead({ contact: { email: 'ada@example.com' } }, { signal: abort.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.received).toHaveLength(1);
    // cockatiel's own backoff timer still runs out; let it, so nothing outlives the test.
    await new Promise((r) => setTimeout(r, 1_500));
  });
});
