// The SMTP send in Jaeger, on the real NATS, FerretDB, Mailpit and Jaeger. nodemailer has no
// OpenTelemetry instrumentation, so nurture wraps the send in a span of its own: the confirmation
// sent right after lead.received is in that lead's trace, a child of the event's processing; a
// step the sweep sends later starts a trace of its own. No span says who the person is.
// Also the email metrics the confirmation objective reads, from nurture's metrics port.
import { randomBytes } from 'node:crypto';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { METRICS_PORTS, stopService, type RunningService } from '../../../test/harness/stack.ts';
import { fetchTrace, findTraces, spanTag, type JaegerSpan, type JaegerTrace } from '../../../test/harness/jaeger.ts';
import { eventually, leadReceived, leadScored, mailTo, nurtureStack, testLead, type NurtureStack } from './support.ts';

const PORT_OFFSET = 230;


let stack: NurtureStack;
let service: RunningService;

beforeAll(async () => {
  // The test publishes as intake would: its event carries a W3C traceparent the test chooses,
  // which needs the propagator the services register through the SDK.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  stack = await nurtureStack('nurture-trace', PORT_OFFSET);
  service = await stack.start();
}, 120_000);

afterAll(async () => {
  if (service) await stopService(service);
  await stack?.close();
  propagation.disable();
});

const tag = spanTag;
const serviceOf = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]!.serviceName;

/** Every string a trace records: tags, events (logs) and names. */
const recorded = (trace: JaegerTrace) =>
  JSON.stringify(trace.spans.map((s) => [s.operationName, s.tags, s.logs ?? []])).toLowerCase();

async function traceById(traceId: string, until: (t: JaegerTrace) => boolean): Promise<JaegerTrace> {
  return eventually(
    `trace ${traceId} in Jaeger`,
    async () => {
      const trace = await fetchTrace(traceId);
      return trace && until(trace) ? trace : undefined;
    },
    45_000,
    250,
  );
}

/** The SMTP spans of one lead's step, whatever trace they are in (found by their tags). */
async function smtpSpansOf(leadId: string, stepId: string): Promise<JaegerTrace[]> {
  return eventually(
    `the smtp send span of ${stepId} in Jaeger`,
    async () => {
      const traces = await findTraces('nurture', 'smtp send', { 'leadmesh.lead_id': leadId, 'leadmesh.nurture.step_id': stepId });
      return traces.length > 0 ? traces : undefined;
    },
    45_000,
    250,
  );
}

describe('the SMTP send in the lead\'s trace', () => {
  it('puts the confirmation\'s SMTP span in the trace of the lead.received it answers, under its processing', async () => {
    const lead = testLead('traced', { firstName: 'Zenobia', company: `Quillfeather ${randomBytes(3).toString('hex')}`, formId: 'contact-sales', consent: false });
    const traceId = randomBytes(16).toString('hex');
    await stack.publish({ ...leadReceived(lead), trace: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    await eventually('the confirmation in Mailpit', async () => ((await mailTo(lead.email)).length > 0 ? true : undefined), 30_000);

    // The subject carries the test's namespace: process <namespace>.leadmesh.lead.received.
    const isProcessing = (t: JaegerTrace, s: JaegerSpan) => /^process \S*leadmesh\.lead\.received$/.test(s.operationName) && serviceOf(t, s) === 'nurture';
    // Both spans, which nurture may export in different batches.
    const trace = await traceById(traceId, (t) => t.spans.some((s) => s.operationName === 'smtp send') && t.spans.some((s) => isProcessing(t, s)));
    const smtp = trace.spans.find((s) => s.operationName === 'smtp send')!;
    const processing = trace.spans.find((s) => isProcessing(trace, s));
    expect(serviceOf(trace, smtp)).toBe('nurture');
    expect(processing).toBeDefined();
    expect(smtp.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', traceID: traceId, spanID: processing!.spanID }));
    expect(tag(smtp, 'span.kind')).toBe('client');
    expect(tag(smtp, 'network.protocol.name')).toBe('smtp');
    expect(tag(smtp, 'server.address')).toBe('127.0.0.1');
    expect(tag(smtp, 'server.port')).toBe(1025);
    expect(tag(smtp, 'leadmesh.lead_id')).toBe(lead.leadId);
    expect(tag(smtp, 'leadmesh.nurture.track_id')).toBe('contact-sales-confirmation');
    expect(tag(smtp, 'leadmesh.nurture.track_kind')).toBe('TRANSACTIONAL');
    expect(tag(smtp, 'otel.status_code')).toBeUndefined();

    // Nothing in the lead's trace names the person.
    const text = recorded(trace);
    for (const personal of [lead.email, 'zenobia', lead.company!.toLowerCase(), 'lovelace']) expect(text).not.toContain(personal.toLowerCase());
  });

  it('gives a step the sweep sends later a trace of its own, not another lead\'s, linked to the event that enrolled the lead', async () => {
    // Marketing consent: the general nurture's day-0 email goes with lead.scored, day 3 comes due
    // three track days (3 s here) later and is sent by the sweep.
    const lead = testLead('swept', { firstName: 'Zenobia', consent: true });
    const traceId = randomBytes(16).toString('hex');
    await stack.publish({ ...leadScored(lead), trace: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });

    const [welcome] = await smtpSpansOf(lead.leadId, 'day-0-welcome');
    expect(welcome!.traceID).toBe(traceId);
    const enrolling = welcome!.spans.find((s) => /^process \S*leadmesh\.lead\.scored$/.test(s.operationName) && serviceOf(welcome!, s) === 'nurture');
    expect(enrolling).toBeDefined();

    const traces = await smtpSpansOf(lead.leadId, 'day-3-customer-stories');
    expect(traces).toHaveLength(1);
    const [own] = traces;
    expect(own!.traceID).not.toBe(traceId);
    const smtp = own!.spans.find((s) => s.operationName === 'smtp send' && tag(s, 'leadmesh.lead_id') === lead.leadId)!;
    // A root: the sweep runs outside any trace, so nothing the sweep did before joins it either.
    expect((smtp.references ?? []).filter((r) => r.refType === 'CHILD_OF')).toEqual([]);
    // From the lead's trace to this email: the processing of the lead.scored that enrolled the lead.
    expect(smtp.references).toContainEqual(expect.objectContaining({ refType: 'FOLLOWS_FROM', traceID: traceId, spanID: enrolling!.spanID }));
    expect(tag(smtp, 'leadmesh.nurture.track_kind')).toBe('MARKETING');
    expect(recorded(own!)).not.toContain(lead.email.toLowerCase());
  });

  it('counts the sends and their delay after being due, by track kind', async () => {
    const metrics = await eventually('nurture\'s metrics', async () => {
      const res = await fetch(`http://127.0.0.1:${METRICS_PORTS.nurture + PORT_OFFSET}/metrics`);
      return res.ok ? res.text() : undefined;
    });
    // The value of the sample of `name` whose labels include all of `labels`.
    const value = (name: string, labels: Record<string, string>) => {
      for (const line of metrics.split('\n')) {
        const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
        if (m?.[1] !== name) continue;
        const has = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
      }
      return NaN;
    };
    // Both earlier tests sent: the confirmation within 30 s of being due, the marketing emails.
    expect(value('leadmesh_email_sends_total', { kind: 'TRANSACTIONAL', outcome: 'sent' })).toBeGreaterThanOrEqual(1);
    expect(value('leadmesh_email_sends_total', { kind: 'MARKETING', outcome: 'sent' })).toBeGreaterThanOrEqual(2);
    expect(value('leadmesh_email_send_delay_seconds_bucket', { kind: 'TRANSACTIONAL', le: '30' })).toBeGreaterThanOrEqual(1);
    // Zeroed at start, so a rule reads 0 failures rather than nothing.
    expect(value('leadmesh_email_sends_total', { kind: 'TRANSACTIONAL', outcome: 'failed' })).toBe(0);
    expect(value('leadmesh_email_sends_total', { kind: 'SALES_ASSIST', outcome: 'retry' })).toBe(0);
  });
});
