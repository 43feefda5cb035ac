// One Contact Sales lead through all five services on the real NATS, FerretDB and Jaeger, with
// the real CRM adapters against the CRM simulator. Then the trace is read back from Jaeger.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { crmsync, intake, nurture, routing, scoring } from '@leadmesh/contracts';
import { createClient } from '@leadmesh/platform';
import { startCrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { eventually } from '../harness/eventually.ts';
import { fetchTrace, spanTag, type JaegerSpan } from '../harness/jaeger.ts';
import { waitServing } from '../harness/health.ts';
import { GRPC_PORTS, ROOT, SERVICES, allScopes, createStackAuth, startStack, stopStack, type RunningService } from '../harness/stack.ts';

const addr = (s: keyof typeof GRPC_PORTS) => `127.0.0.1:${GRPC_PORTS[s]}`;

let services: RunningService[] = [];
let simulator: Awaited<ReturnType<typeof startCrmSimulator>>;
// Authentication is on, as in production: a token with every scope for this test's calls.
const auth = await createStackAuth();
const token = await auth.token(await allScopes(), 'team:e2e');
const intakeClient = createClient(intake.IntakeService, addr('intake'), { token });
const scoringClient = createClient(scoring.ScoringService, addr('scoring'), { token });
const routingClient = createClient(routing.RoutingService, addr('routing'), { token });
const nurtureClient = createClient(nurture.NurtureService, addr('nurture'), { token });
const crmSyncClient = createClient(crmsync.CrmSyncService, addr('crm-sync'), { token });

beforeAll(async () => {
  simulator = await startCrmSimulator({ port: 8090, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
  services = startStack({ auth });
  await Promise.all(SERVICES.map((s) => waitServing(addr(s), 90_000)));
}, 120_000);

afterAll(async () => {
  for (const c of [intakeClient, scoringClient, routingClient, nurtureClient, crmSyncClient]) c.close();
  await stopStack(services);
  await simulator?.close();
});


describe('one lead end to end', () => {
  it('is captured, scored, routed, enrolled and synced to the CRM, as one trace across all five services', async () => {
    const traceId = randomBytes(16).toString('hex');
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
    const email = `ada.${traceId.slice(0, 8)}@example-analytics.com`;

    const submitted = await intakeClient.submitLead(
      {
        idempotencyKey: `e2e-${traceId}`,
        contact: { email: email.toUpperCase(), firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'Germany', companySize: 800 },
        source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing', utmSource: 'google' },
        interest: { product: 'analytics', message: 'We need a demo' },
        consent: { emailMarketing: true, wordingVersion: '2026-01' },
      },
      { metadata },
    );
    expect(submitted.outcome).toBe(intake.SubmissionOutcome.NEW_LEAD);
    const leadId = submitted.leadId;

    const record = await eventually('the CRM sync', async () => {
      const { record } = await crmSyncClient.getSyncStatus({ leadId });
      return record?.status === crmsync.SyncStatus.SYNCED ? record : undefined;
    });
    expect(record.crmId).not.toBe('');
    expect(record.attempts).toBeGreaterThanOrEqual(1);

    // Every service answers for its part of the lead.
    const { lead } = await intakeClient.getLead({ leadId });
    expect(lead?.profile?.contact?.email).toBe(email);
    expect(lead?.profile?.contact?.country).toBe('DE');
    const { score } = await scoringClient.getLeadScore({ leadId });
    expect(score?.grade).toMatch(/^[A-D][1-4]$/);
    expect(score?.reasons.length).toBeGreaterThan(0);
    const { assignment } = await routingClient.getAssignment({ leadId });
    expect(assignment?.ownerId).not.toBe('');
    expect(assignment?.reason).not.toBe('');
    const { enrollments } = await nurtureClient.getEnrollments({ leadId });
    expect(enrollments.length).toBeGreaterThanOrEqual(1);

    // The CRM holds exactly one record for the lead, with the mapped fields.
    const crmRecords = (await simulator.records('salesforce')).filter((r: Record<string, unknown>) => JSON.stringify(r).includes(leadId));
    expect(crmRecords).toHaveLength(1);

    // One trace, holding spans from all five services: every hop of the lead's way.
    const expectedOps = [
      'intake grpc.leadmesh.intake.v1.IntakeService/SubmitLead',
      'intake publish leadmesh.lead.received',
      'scoring process leadmesh.lead.received',
      'scoring publish leadmesh.lead.scored',
      'routing process leadmesh.lead.scored',
      'routing publish leadmesh.lead.routed',
      'nurture process leadmesh.lead.routed',
      'crm-sync process leadmesh.lead.routed',
      'crm-sync publish leadmesh.crm.synced',
    ];
    let missing: string[] = [];
    const trace = await eventually(
      'the trace in Jaeger',
      async () => {
        const t = await fetchTrace(traceId);
        if (!t) return undefined;
        const ops = new Set(t.spans.map((s) => `${t.processes[s.processID]!.serviceName} ${s.operationName}`));
        missing = expectedOps.filter((op) => !ops.has(op));
        return missing.length === 0 ? t : undefined;
      },
      45_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; missing spans: ${missing.join(', ')}`);
    });
    expect(new Set(trace.spans.map((s) => s.traceID))).toEqual(new Set([traceId]));
    const serviceOf = (span: JaegerSpan) => trace.processes[span.processID]!.serviceName;
    const tag = spanTag;
    expect(new Set(Object.values(trace.processes).map((p) => p.serviceName))).toEqual(new Set([...SERVICES]));
    // Store spans from every service and the outbound CRM call.
    const isMongo = (span: JaegerSpan) => tag(span, 'db.system') === 'mongodb' || tag(span, 'db.system.name') === 'mongodb';
    for (const s of SERVICES) expect({ service: s, mongoSpans: trace.spans.some((span) => serviceOf(span) === s && isMongo(span)) }).toEqual({ service: s, mongoSpans: true });
    const crmCall = trace.spans.find((span) => serviceOf(span) === 'crm-sync' && tag(span, 'span.kind') === 'client' && tag(span, 'http.request.method') !== undefined);
    expect(crmCall).toBeDefined();
    // Events carry state: no service calls another on the pipeline path.
    const grpcCalls = trace.spans.filter((span) => tag(span, 'span.kind') === 'client' && tag(span, 'rpc.system') === 'grpc').map((span) => `${serviceOf(span)} ${span.operationName}`);
    expect(grpcCalls).toEqual([]);
    // Messaging spans follow the semantic conventions.
    const publish = trace.spans.find((s) => s.operationName === 'publish leadmesh.lead.received')!;
    expect(tag(publish, 'messaging.system')).toBe('nats');
    expect(tag(publish, 'span.kind')).toBe('producer');
  }, 180_000);

  it('answers a retried submission with the same lead and publishes nothing new', async () => {
    const key = `retry-${randomBytes(6).toString('hex')}`;
    const request = { idempotencyKey: key, contact: { email: `retry.${key}@example.org`, lastName: 'Retry', company: 'Retry Ltd' } };
    const first = await intakeClient.submitLead(request);
    const second = await intakeClient.submitLead(request);
    expect(second.leadId).toBe(first.leadId);
    expect(second.submissionId).toBe(first.submissionId);
    expect(second.outcome).toBe(intake.SubmissionOutcome.IDEMPOTENT_REPLAY);
  });
});

describe('the doors other teams and web forms use', () => {
  const bin = execFileSync('bash', [join(ROOT, 'scripts', 'infra.sh'), 'bin'], { encoding: 'utf8' }).trim();
  const grpcurl = (...args: string[]) => execFileSync(join(bin, 'grpcurl'), ['-plaintext', '-H', `authorization: Bearer ${token}`, ...args], { encoding: 'utf8' });

  it('lists every service and its RPCs through reflection, and each health check says SERVING', () => {
    const expected: Record<string, string[]> = {
      intake: ['leadmesh.intake.v1.IntakeService.SubmitLead', 'leadmesh.intake.v1.IntakeService.RecordActivity', 'leadmesh.intake.v1.IntakeService.GetLead'],
      scoring: ['leadmesh.scoring.v1.ScoringService.ScoreLead', 'leadmesh.scoring.v1.ScoringService.GetLeadScore'],
      routing: ['leadmesh.routing.v1.RoutingService.PreviewRoute', 'leadmesh.routing.v1.RoutingService.GetAssignment'],
      nurture: ['leadmesh.nurture.v1.NurtureService.RecommendTrack', 'leadmesh.nurture.v1.NurtureService.GetEnrollments'],
      'crm-sync': ['leadmesh.crmsync.v1.CrmSyncService.GetSyncStatus'],
    };
    for (const service of SERVICES) {
      const services = grpcurl(addr(service), 'list').trim().split('\n');
      expect(services).toContain('grpc.health.v1.Health');
      // Every service also serves its parked events and its audit record, through the APIs all five share.
      const shared = ['leadmesh.parkedevents.v1.ParkedEventsService', 'leadmesh.audit.v1.AuditService'];
      expect(services).toEqual(expect.arrayContaining(shared));
      const api = services.find((s) => s.startsWith('leadmesh.') && !shared.includes(s))!;
      const methods = grpcurl(addr(service), 'list', api).trim().split('\n');
      expect(methods).toEqual(expect.arrayContaining(expected[service]!));
      expect(JSON.parse(grpcurl(addr(service), 'grpc.health.v1.Health/Check'))).toEqual({ status: 'SERVING' });
      // Messages are described from the served descriptors, no .proto files needed.
      expect(grpcurl(addr(service), 'describe', api)).toContain('rpc ');
    }
  });

  it('calls SubmitLead with grpcurl exactly as the README shows', () => {
    const email = `grpcurl.${randomBytes(4).toString('hex')}@example.org`;
    const out = JSON.parse(
      grpcurl('-d', JSON.stringify({ contact: { email, first_name: 'Linus', last_name: 'Torvalds', company: 'Example Kernel Co' }, source: { form_id: 'contact-sales' } }), addr('intake'), 'leadmesh.intake.v1.IntakeService/SubmitLead'),
    );
    expect(out.outcome).toBe('SUBMISSION_OUTCOME_NEW_LEAD');
    expect(out.leadId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts the web form as JSON and as urlencoded, through the same validation', async () => {
    const email = `form.${randomBytes(4).toString('hex')}@example.org`;
    const asJson = await fetch('http://127.0.0.1:8080/v1/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ contact: { email, lastName: 'Form', company: 'Form GmbH', country: 'DE' }, source: { formId: 'contact-sales' } }),
    });
    expect(asJson.status).toBe(201);
    const first = (await asJson.json()) as { leadId: string; outcome: string };
    expect(first.outcome).toBe('NEW_LEAD');

    const asForm = await fetch('http://127.0.0.1:8080/v1/leads', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
      body: new URLSearchParams({ email: email.toUpperCase(), last_name: 'Form', company: 'Form GmbH', utm_source: 'newsletter', consent_email_marketing: 'on' }).toString(),
    });
    expect(asForm.status).toBe(201);
    const second = (await asForm.json()) as { leadId: string; outcome: string };
    // Same person, normalised email: a new submission on the same lead.
    expect(second).toMatchObject({ leadId: first.leadId, outcome: 'EXISTING_CONTACT' });
  });

  it('rejects hostile and invalid bodies naming the field, and stores nothing', async () => {
    const marker = `hostile.${randomBytes(4).toString('hex')}@example.org`;
    const post = (body: string, type = 'application/json') =>
      fetch('http://127.0.0.1:8080/v1/leads', { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${token}` }, body });
    const operator = await post(JSON.stringify({ contact: { email: { $gt: '' }, lastName: 'X' } }));
    expect(operator.status).toBe(400);
    expect(JSON.stringify(await operator.json())).toContain('contact.email');

    const badEmail = await post(JSON.stringify({ contact: { email: 'not-an-email', lastName: 'X' } }));
    expect(badEmail.status).toBe(400);
    expect(JSON.stringify(await badEmail.json())).toContain('contact.email');

    const injected = await post(JSON.stringify({ contact: { email: marker, lastName: 'X\r\nBcc: victim@example.org' } }));
    expect(injected.status).toBe(400);
    expect(JSON.stringify(await injected.json())).toContain('contact.last_name');

    expect((await post('{"contact":', 'application/json')).status).toBe(400);
    expect((await post('<lead/>', 'application/xml')).status).toBe(415);
    expect((await post('x'.repeat(70_000))).status).toBe(413);

    // The injected submission named a real address: intake must not know it.
    const grpcInvalid = await intakeClient.submitLead({ contact: { email: 'nope', lastName: 'X' } }).catch((e) => e);
    expect(grpcInvalid.code).toBe(3);
    expect(grpcInvalid.details).toContain('contact.email');
    const stored = await fetch('http://127.0.0.1:8080/v1/leads', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ contact: { email: marker, lastName: 'Clean', company: 'Clean Co' } }) });
    expect(((await stored.json()) as { outcome: string }).outcome).toBe('NEW_LEAD');
  });
});
