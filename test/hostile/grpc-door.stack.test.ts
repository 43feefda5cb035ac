// Hostile bytes at intake's gRPC door, sent raw (identity serializers) so nothing on the client
// side cleans them up: random and truncated protobuf, huge fields, invalid UTF-8, CR/LF injection.
// Every answer is a clean gRPC error naming the field where there is one, intake stays SERVING,
// and nothing is stored.
import { toBinary, create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { intake } from '@leadmesh/contracts';
import fc from 'fast-check';
import { startIntake, markerStored, type HostileIntake } from './support.ts';

const NAMESPACE = 'hostile-grpc';
const OFFSET = 900;
const METHOD = '/leadmesh.intake.v1.IntakeService/SubmitLead';
let door: HostileIntake | undefined;
let client: grpc.Client;

beforeAll(async () => {
  door = await startIntake(NAMESPACE, OFFSET);
  client = new grpc.Client(door.grpc, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
}, 180_000);

afterAll(async () => {
  client?.close();
  await door?.stop();
}, 60_000);

/** Sends bytes as they are and resolves with the status code and details (OK included). */
function send(bytes: Uint8Array): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      METHOD,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(bytes),
      new grpc.Metadata(),
      { deadline: Date.now() + 20_000 },
      (err) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' }),
    );
  });
}

const valid = (marker: string) =>
  create(intake.SubmitLeadRequestSchema, {
    idempotencyKey: `hostile-${marker}`,
    contact: { email: `${marker}@example-analytics.com`, firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics', jobTitle: 'CTO', country: 'DE' },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing' },
    interest: { product: 'analytics', message: 'demo please' },
    consent: { emailMarketing: true, wordingVersion: '2026-01' },
  });

describe("intake's gRPC door under hostile bytes", () => {
  it('answers random bytes with INVALID_ARGUMENT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4096 }), async (bytes) => {
        const { code } = await send(bytes);
        expect(grpc.status[code]).toBe('INVALID_ARGUMENT');
      }),
      { numRuns: 150 },
    );
  }, 180_000);

  it('answers every truncation of a valid request with INVALID_ARGUMENT', async () => {
    const full = toBinary(intake.SubmitLeadRequestSchema, valid('truncated'));
    // Fields are written in field-number order: a cut before the end of `contact` (field 2) always
    // leaves a broken or contact-less request, never a shorter valid one.
    const { idempotencyKey, contact } = valid('truncated');
    const throughContact = toBinary(intake.SubmitLeadRequestSchema, create(intake.SubmitLeadRequestSchema, { idempotencyKey, contact })).length;
    expect(Buffer.from(full.subarray(0, throughContact)).equals(Buffer.from(toBinary(intake.SubmitLeadRequestSchema, create(intake.SubmitLeadRequestSchema, { idempotencyKey, contact }))))).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: throughContact - 1 }), async (cut) => {
        const { code, details } = await send(full.subarray(0, cut));
        expect(grpc.status[code]).toBe('INVALID_ARGUMENT');
        expect(details).toMatch(/SubmitLeadRequest|contact/);
      }),
      { numRuns: 120 },
    );
  }, 180_000);

  it('refuses huge fields naming the field, and a message over the size limit', async () => {
    const huge = 'x'.repeat(300_000);
    const cases: Array<[string, (r: intake.SubmitLeadRequest) => void]> = [
      ['idempotency_key', (r) => (r.idempotencyKey = huge)],
      ['contact.first_name', (r) => (r.contact!.firstName = huge)],
      ['contact.last_name', (r) => (r.contact!.lastName = huge)],
      ['contact.company', (r) => (r.contact!.company = huge)],
      ['contact.email', (r) => (r.contact!.email = `${huge}@example.com`)],
      ['source.page_url', (r) => (r.source!.pageUrl = `https://example.com/${huge}`)],
      ['interest.message', (r) => (r.interest!.message = huge)],
    ];
    for (const [field, mutate] of cases) {
      const request = valid(`huge-${field.replace(/\W/g, '')}`);
      mutate(request);
      const { code, details } = await send(toBinary(intake.SubmitLeadRequestSchema, request));
      expect({ field, code: grpc.status[code] }).toEqual({ field, code: 'INVALID_ARGUMENT' });
      expect(details).toContain(field);
    }
    const oversized = valid('oversized');
    oversized.interest!.message = 'y'.repeat(5 * 1024 * 1024);
    expect(grpc.status[(await send(toBinary(intake.SubmitLeadRequestSchema, oversized))).code]).toBe('RESOURCE_EXHAUSTED');
  }, 120_000);

  it('refuses invalid UTF-8 in string fields', async () => {
    // The marker's bytes are overwritten in the encoded request with bytes that are not UTF-8.
    for (const [field, place] of [
      ['contact.last_name', (r: intake.SubmitLeadRequest, m: string) => (r.contact!.lastName = m)],
      ['contact.company', (r: intake.SubmitLeadRequest, m: string) => (r.contact!.company = m)],
      ['interest.message', (r: intake.SubmitLeadRequest, m: string) => (r.interest!.message = m)],
    ] as const) {
      const request = valid(`utf8-${field.replace(/\W/g, '')}`);
      place(request, 'QQQQQQ');
      const bytes = Buffer.from(toBinary(intake.SubmitLeadRequestSchema, request));
      const at = bytes.indexOf('QQQQQQ');
      expect(at).toBeGreaterThan(0);
      Buffer.from([0x41, 0xc3, 0x28, 0xff, 0xfe, 0x42]).copy(bytes, at);
      const { code, details } = await send(bytes);
      expect({ field, code: grpc.status[code] }).toEqual({ field, code: 'INVALID_ARGUMENT' });
      expect(details).toMatch(/UTF-8|utf-8|SubmitLeadRequest/);
    }
  }, 60_000);

  it('refuses CR/LF header and SMTP injection in names', async () => {
    const injection = fc
      .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\r\n', '\n', '\r', '\r\n\r\n'), fc.constantFrom('Bcc: victim@example.org', 'Subject: pwned', '.\r\nMAIL FROM:<x@evil.example>', 'X-Injected: 1'))
      .map(([before, eol, header]) => `${before}${eol}${header}`);
    const fields = ['contact.first_name', 'contact.last_name', 'contact.company'] as const;
    await fc.assert(
      fc.asyncProperty(injection, fc.constantFrom(...fields), async (value, field) => {
        const request = valid(`inject-${Math.random().toString(36).slice(2, 10)}`);
        if (field === 'contact.first_name') request.contact!.firstName = value;
        if (field === 'contact.last_name') request.contact!.lastName = value;
        if (field === 'contact.company') request.contact!.company = value;
        const { code, details } = await send(toBinary(intake.SubmitLeadRequestSchema, request));
        expect(grpc.status[code]).toBe('INVALID_ARGUMENT');
        expect(details).toContain(field);
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('stays SERVING and stored nothing', async () => {
    expect(await door!.health()).toBe('SERVING');
    expect(await door!.stored()).toEqual({ contacts: 0, submissions: 0 });
    expect(await markerStored(door!, NAMESPACE, 'hostile-')).toBe(false);
    // The door still works for a clean request: the refusals above were about the input.
    const { code } = await send(toBinary(intake.SubmitLeadRequestSchema, valid(`clean-${Date.now()}`)));
    expect(grpc.status[code]).toBe('OK');
    expect(await door!.stored()).toEqual({ contacts: 1, submissions: 1 });
  }, 60_000);
});
