// Hostile bodies at intake's HTTP door (web forms and webhooks): MongoDB operator objects in every
// string field, arbitrary and deeply nested JSON, oversized bodies, wrong content types, invalid
// UTF-8, CR/LF injection in names. Every answer is a 4xx naming the field where there is one,
// intake stays SERVING, and nothing is stored.
import { request } from 'node:http';
import fc from 'fast-check';
import { MAX_BODY_DEPTH } from '../../services/intake/src/domain/web-form.ts';
import { FORM_FIELDS } from '../../services/intake/src/domain/web-form-fields.ts';
import { startIntake, markerStored, type HostileIntake } from './support.ts';

const NAMESPACE = 'hostile-http';
const OFFSET = 910;
let door: HostileIntake | undefined;

beforeAll(async () => {
  door = await startIntake(NAMESPACE, OFFSET);
}, 180_000);

afterAll(async () => {
  await door?.stop();
}, 60_000);

interface Answer {
  status: number;
  text: string;
}

/**
 * One POST on its own connection (no keep-alive pool), so each hostile body is judged alone; the
 * test of connection reuse after an oversized body uses fetch's pool on purpose.
 */
function post(body: string | Uint8Array, contentType?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${door!.http}/v1/leads`, { method: 'POST', agent: false, headers: contentType ? { 'content-type': contentType } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer (413) and close before an oversized body is fully written.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(body);
  });
}

const postJson = (value: unknown) => post(JSON.stringify(value), 'application/json');

const cleanLead = (tag: string) => ({
  idempotencyKey: `hostile-${tag}`,
  contact: { email: `hostile.${tag}@example-analytics.com`, firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics' },
  source: { formId: 'contact-sales' },
});

/**
 * The lead with `value` in place of the field (its camelCase name, the one the clean lead uses, so
 * the field is given once), nested ({"contact": {"email": ...}}) or at the top level.
 */
function withField(path: string, value: unknown, tag: string): Record<string, unknown> {
  const body = structuredClone(cleanLead(tag)) as Record<string, any>;
  const camel = path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const [group, name] = camel.includes('.') ? camel.split('.') : [undefined, camel];
  if (group) body[group] = { ...(body[group] ?? {}), [name!]: value };
  else body[name!] = value;
  return body;
}

const depth = (value: unknown): number =>
  typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depth)) : 0;

const OPERATORS = [{ $gt: '' }, { $ne: null }, { $where: 'sleep(5000) || true' }, { $regex: '.*' }, { $in: ['a', 'b'] }, { $exists: true }];

describe("intake's HTTP door under hostile bodies", () => {
  it('refuses a MongoDB operator object in every string field, naming the field', async () => {
    const textFields = FORM_FIELDS.filter((f) => f.kind === 'text' || f.kind === 'digits');
    expect(textFields.map((f) => f.path)).toEqual(expect.arrayContaining(['contact.email', 'contact.last_name', 'source.form_id', 'interest.message', 'idempotency_key']));
    for (const field of textFields) {
      for (const [i, operator] of OPERATORS.entries()) {
        const body = withField(field.path, operator, `op-${field.snake}-${i}`);
        const { status, text } = await postJson(body);
        expect({ field: field.path, operator, status }).toEqual({ field: field.path, operator, status: 400 });
        // An operator whose own value nests ({"$in": [...]}) is refused before fields are read, as the body.
        expect(text).toContain(depth(body) > MAX_BODY_DEPTH ? 'nested deeper than' : field.path);
      }
    }
  }, 180_000);

  it('answers arbitrary JSON with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        const { status } = await postJson(value);
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  }, 180_000);

  it('answers arbitrary bytes under any content type with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2048 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
        async (bytes, type) => {
          const { status } = await post(bytes, type);
          expect(status).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  }, 180_000);

  it('refuses deeply nested and oversized JSON', async () => {
    const deepArray = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    const deepObject = `${'{"contact":'.repeat(5000)}{}${'}'.repeat(5000)}`;
    for (const body of [deepArray, deepObject]) {
      const { status, text } = await post(body, 'application/json');
      expect(status).toBe(400);
      expect(text).toContain('body');
    }
    const nestedLead = withField('contact.last_name', { a: { b: { c: { d: 'x' } } } }, 'nested');
    expect((await postJson(nestedLead)).status).toBe(400);
    const oversized = JSON.stringify({ ...cleanLead('oversized'), interest: { message: 'z'.repeat(70_000) } });
    expect((await post(oversized, 'application/json')).status).toBe(413);
    expect((await post('a'.repeat(1024 * 1024), 'application/json')).status).toBe(413);
  }, 60_000);

  it('refuses wrong content types with 415 and invalid UTF-8 with 400', async () => {
    const lead = JSON.stringify(cleanLead('content-type'));
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'text/html', undefined]) {
      expect({ type, status: (await post(lead, type)).status }).toEqual({ type, status: 415 });
    }
    const invalid = Buffer.concat([Buffer.from('{"contact":{"email":"utf8@example-analytics.com","lastName":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]);
    const { status, text } = await post(invalid, 'application/json');
    expect(status).toBe(400);
    expect(text).toMatch(/UTF-8/);
  }, 60_000);

  it('refuses CR/LF header and SMTP injection in names, as JSON and as a urlencoded form', async () => {
    const injection = fc
      .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\r\n', '\n', '\r', '%0d%0a'), fc.constantFrom('Bcc: victim@example.org', 'Subject: pwned', '.\r\nRCPT TO:<x@evil.example>'))
      .map(([before, eol, header]) => `${before}${eol === '%0d%0a' ? decodeURIComponent(eol) : eol}${header}`);
    const names = [
      ['contact.first_name', 'first_name'],
      ['contact.last_name', 'last_name'],
      ['contact.company', 'company'],
    ] as const;
    await fc.assert(
      fc.asyncProperty(injection, fc.constantFrom(...names), fc.boolean(), async (value, [path, flat], asForm) => {
        const tag = `inject-${Math.random().toString(36).slice(2, 10)}`;
        const answer = asForm
          ? await post(new URLSearchParams({ email: `hostile.${tag}@example-analytics.com`, last_name: 'Lovelace', company: 'Example', [flat]: value }).toString(), 'application/x-www-form-urlencoded')
          : await postJson(withField(path, value, tag));
        expect(answer.status).toBe(400);
        expect(answer.text).toContain(path);
      }),
      { numRuns: 80 },
    );
  }, 180_000);

  it('refuses an ambiguous body: a JSON key given twice, or a repeated email in a urlencoded form, naming the field', async () => {
    const twiceInJson = await post('{"email":"hostile.first@example-analytics.com","lastName":"L","email":"hostile.second@example-analytics.com"}', 'application/json');
    expect(twiceInJson.status).toBe(400);
    expect(JSON.parse(twiceInJson.text)).toMatchObject({ violations: [{ field: 'contact.email', description: expect.stringMatching(/more than once/) }] });
    const twiceInForm = await post('email=hostile.first%40example-analytics.com&last_name=L&email=hostile.second%40example-analytics.com', 'application/x-www-form-urlencoded');
    expect(twiceInForm.status).toBe(400);
    expect(JSON.parse(twiceInForm.text)).toMatchObject({ violations: [{ field: 'contact.email', description: expect.stringMatching(/more than once/) }] });
  }, 60_000);

  it('keeps a client\'s pooled connection usable after refusing an oversized body', async () => {
    // A browser or webhook sender reuses its keep-alive connection for the next POST; a refusal
    // must not leave that connection dead (answer with Connection: close, or drain the body).
    const url = `${door!.http}/v1/leads`;
    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'a'.repeat(1024 * 1024) });
    await refused.text();
    expect(refused.status).toBe(413);
    const next: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'after' }).catch((err: Error) => err);
      next.push(res instanceof Response ? res.status : -1);
      if (res instanceof Response) await res.text();
    }
    // -1 is a request that died on the connection the refusal left behind (ECONNRESET).
    expect(next).toEqual([415, 415, 415]);
  }, 60_000);

  it('stays SERVING and stored nothing', async () => {
    expect(await door!.health()).toBe('SERVING');
    expect(await door!.stored()).toEqual({ contacts: 0, submissions: 0 });
    expect(await markerStored(door!, NAMESPACE, 'hostile')).toBe(false);
    const clean = await postJson(cleanLead(`clean-${Date.now()}`));
    expect(clean.status).toBe(201);
    expect(await door!.stored()).toEqual({ contacts: 1, submissions: 1 });
  }, 60_000);
});
