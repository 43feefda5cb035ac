// Every RPC of every service, three ways: no credentials (UNAUTHENTICATED), a valid caller without
// the RPC's scope (PERMISSION_DENIED), and the right scope (let through to the handler). The scope
// each RPC needs is declared on it in the proto.
import { getOption } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { audit, auth, crmsync, intake, nurture, parkedevents, routing, scoring } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { waitServing } from '../harness/health.ts';
import { SERVICES, createStackAuth, grpcAddress, httpUrl, startStack, stopStack, type RunningService, type Service, type StackAuth } from '../harness/stack.ts';

const OFFSET = 20;
const SERVICE_APIS: Array<[Service, GenService<GenServiceMethods>]> = [
  ['intake', intake.IntakeService],
  ['scoring', scoring.ScoringService],
  ['routing', routing.RoutingService],
  ['nurture', nurture.NurtureService],
  ['crm-sync', crmsync.CrmSyncService],
  // Served by every service, for its own parked events.
  ...SERVICES.map((name): [Service, GenService<GenServiceMethods>] => [name, parkedevents.ParkedEventsService]),
  // Served by every service, for its own privileged calls.
  ...SERVICES.map((name): [Service, GenService<GenServiceMethods>] => [name, audit.AuditService]),
];

let stackAuth: StackAuth;
let services: RunningService[] = [];

beforeAll(async () => {
  stackAuth = await createStackAuth();
  services = startStack({ namespace: 'auth', portOffset: OFFSET, auth: stackAuth, env: { AUTH_RATE_LIMIT_PER_SECOND: '40' } });
  await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, OFFSET), 90_000)));
}, 120_000);

afterAll(async () => {
  await stopStack(services);
});

async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return status.OK;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

const rows = SERVICE_APIS.flatMap(([name, api]) => api.methods.map((method) => ({ name, api, method, scope: getOption(method, auth.required_scope) })));

describe('who may call what', () => {
  it('declares a scope on every RPC', () => {
    expect(rows.filter((r) => !r.scope).map((r) => `${r.api.typeName}/${r.method.name}`)).toEqual([]);
  });

  it.each(rows.map((r) => [`${r.api.typeName}/${r.method.name}`, r] as const))('%s: no credentials, wrong scope, right scope', async (_label, row) => {
    const client = createClient(row.api, grpcAddress(row.name, OFFSET), { timeoutMs: 5000 }) as unknown as Record<string, (req: object, opts?: { metadata?: Metadata }) => Promise<unknown>> & { close(): void };
    const call = (token?: string) => {
      const metadata = new Metadata();
      if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
      return codeOf(client[row.method.localName]!({}, { metadata }));
    };
    try {
      expect(await call()).toBe(status.UNAUTHENTICATED);
      expect(await call('not-a-token')).toBe(status.UNAUTHENTICATED);
      expect(await call(await stackAuth.token(['nothing:granted']))).toBe(status.PERMISSION_DENIED);
      const allowed = await call(await stackAuth.token([row.scope]));
      expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).not.toContain(allowed);
    } finally {
      client.close();
    }
  });

  it('refuses a token signed by another key', async () => {
    const stranger = await createStackAuth();
    const client = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token: await stranger.token(['leads:read']) });
    try {
      await expect(client.getLead({ leadId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    } finally {
      client.close();
    }
  });

  it('limits a caller on the public RPCs with RESOURCE_EXHAUSTED and the delay to wait', async () => {
    const client = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token: await stackAuth.token(['leads:read'], 'team:greedy') });
    try {
      const results = await Promise.allSettled(Array.from({ length: 120 }, () => client.getLead({ leadId: '00000000-0000-4000-8000-000000000000' })));
      const limited = results.filter((r) => r.status === 'rejected' && (r.reason as ServiceError).code === status.RESOURCE_EXHAUSTED);
      expect(limited.length).toBeGreaterThan(0);
      const retryAfter = Number((limited[0] as PromiseRejectedResult).reason.metadata.get('retry-after-ms')[0]);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(1000);
    } finally {
      client.close();
    }
  });

  it('lets the web form submit with a submit-only token in the header, and nothing else', async () => {
    const body = JSON.stringify({ contact: { email: `webkey.${Date.now()}@example.org`, lastName: 'Key', company: 'Key Co' } });
    const post = (headers: Record<string, string>) =>
      fetch(`${httpUrl('intake', OFFSET)}/v1/leads`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: `Bearer ${await stackAuth.token(['leads:read'])}` })).status).toBe(403);
    const formKey = await stackAuth.token(['leads:submit'], 'team:web-form');
    expect((await post({ authorization: `Bearer ${formKey}` })).status).toBe(201);
    // The token is no longer taken from the URL, where any page reader could copy it: a browser
    // form posts with a form key bound to its form and origins (test/e2e/web-form-door.stack.test.ts).
    const viaQuery = await fetch(`${httpUrl('intake', OFFSET)}/v1/leads?key=${formKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: `webform.${Date.now()}@example.org`, last_name: 'Form', company: 'Form Co' }).toString(),
    });
    expect(viaQuery.status).toBe(401);
    expect((await viaQuery.json()).error).toMatch(/form_key/);
    // The submit-only key cannot read.
    const reader = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token: formKey });
    try {
      await expect(reader.getLead({ leadId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    } finally {
      reader.close();
    }
  });
});

describe('the audit record', () => {
  async function auditOf(name: Service) {
    const reader = createClient(audit.AuditService, grpcAddress(name, OFFSET), { token: await stackAuth.token(['audit:read'], 'team:security'), timeoutMs: 10_000 });
    try {
      return (await reader.listAuditRecords({ pageSize: 20 })).records;
    } finally {
      reader.close();
    }
  }

  it("writes each service's privileged calls with the caller's identity, readable over gRPC, and no personal data", async () => {
    const email = `audited.${Date.now()}@example.org`;
    const eraser = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token: await stackAuth.token(['privacy:erase'], 'user:pia'), timeoutMs: 10_000 });
    const rules = createClient(scoring.ScoringService, grpcAddress('scoring', OFFSET), { token: await stackAuth.token(['rules:admin'], 'user:mia'), timeoutMs: 10_000 });
    try {
      const { erasureId } = await eraser.eraseContact({ email });
      await expect(rules.activateRuleSet({ version: 'no-such-version' })).rejects.toMatchObject({ code: expect.any(Number) });
      const erasures = (await auditOf('intake')).filter((r) => r.method === 'leadmesh.intake.v1.IntakeService/EraseContact');
      expect(erasures[0]).toMatchObject({ service: 'intake', caller: 'user:pia', target: `erasure_id=${erasureId}`, outcome: 'OK' });
      expect(JSON.stringify(erasures, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(email);
      const activations = (await auditOf('scoring')).filter((r) => r.method === 'leadmesh.scoring.v1.ScoringService/ActivateRuleSet' && r.target === 'version=no-such-version');
      expect(activations[0]).toMatchObject({ service: 'scoring', caller: 'user:mia' });
      expect(activations[0]!.outcome).not.toBe('OK');
    } finally {
      eraser.close();
      rules.close();
    }
  });
});
