// An SMTP send that fails and is retried, on the real NATS, FerretDB, Mailpit and Jaeger. The SMTP
// server is out of reach at first (nurture's SMTP_URL points at a port that drops every connection,
// as a firewall or a dead relay does), then the port forwards to Mailpit. The failed attempt's
// span is in the lead's trace, marked as an error without the address; the retry, sent later by
// the sweep, starts a trace of its own linked to the event that handed the step over; both
// attempts are counted.
import { randomBytes } from 'node:crypto';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { METRICS_PORTS, stopService, type RunningService } from '../../../test/harness/stack.ts';
import { findTraces, spanTag, type JaegerTrace } from '../../../test/harness/jaeger.ts';
import { FaultySmtpPath } from './smtp-path.ts';
import { eventually, leadReceived, mailTo, nurtureStack, testLead, type NurtureStack } from './support.ts';

const NAMESPACE = 'nurture-smtp-retry';
const PORT_OFFSET = 240;


let stack: NurtureStack;
let service: RunningService | undefined;
const smtp = new FaultySmtpPath();

beforeAll(async () => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // Out of reach at first: every connection dropped until the test opens the path.
  smtp.inject('drop');
  const port = await smtp.listen();
  stack = await nurtureStack(NAMESPACE, PORT_OFFSET);
  service = await stack.start({
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    // The retries come every sweep here: enough of them that the step is not given up before
    // the test opens the path.
    NURTURE_MAX_SEND_ATTEMPTS: '1000',
  });
}, 120_000);

afterAll(async () => {
  if (service) await stopService(service);
  await stack?.close();
  await smtp.close();
  propagation.disable();
});

const tag = spanTag;

/** The traces holding SMTP spans of one lead's step, with those spans. */
const smtpTraces = (leadId: string, stepId: string) => findTraces('nurture', 'smtp send', { 'leadmesh.lead_id': leadId, 'leadmesh.nurture.step_id': stepId }, 100);
const smtpSpan = (trace: JaegerTrace, leadId: string) => trace.spans.find((s) => s.operationName === 'smtp send' && tag(s, 'leadmesh.lead_id') === leadId);

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${METRICS_PORTS.nurture + PORT_OFFSET}/metrics`);
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const has = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
  }
  return NaN;
}

it('traces the failed attempt in the lead\'s trace and the retry in its own, linked to it, and counts both', async () => {
  const lead = testLead('retried', { formId: 'contact-sales', consent: false });
  const traceId = randomBytes(16).toString('hex');
  await stack.publish({ ...leadReceived(lead), trace: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });

  // The first attempt, made as the event was handled: in the lead's trace, an error.
  const failed = await eventually('the failed attempt\'s span in Jaeger', async () => {
    const trace = (await smtpTraces(lead.leadId, 'confirmation')).find((t) => t.traceID === traceId);
    return trace && smtpSpan(trace, lead.leadId);
  }, 45_000, 250);
  expect(tag(failed, 'otel.status_code')).toBe('ERROR');
  expect(tag(failed, 'error')).toBe(true);
  expect(tag(failed, 'leadmesh.email.failure')).toBe('retry');
  expect(tag(failed, 'leadmesh.email.attempt')).toBe(1);
  const processing = failed.references?.find((r) => r.refType === 'CHILD_OF');
  expect(processing?.traceID).toBe(traceId);
  expect(JSON.stringify([failed.tags, failed.logs ?? []]).toLowerCase()).not.toContain(lead.email.toLowerCase());
  expect(await metric('leadmesh_email_sends_total', { kind: 'TRANSACTIONAL', outcome: 'retry' })).toBeGreaterThanOrEqual(1);

  smtp.inject('none');
  await eventually('the confirmation in Mailpit', async () => ((await mailTo(lead.email)).length > 0 ? true : undefined), 30_000);

  // The attempt that went through was a retry the sweep sent: a root span in a trace of its own,
  // linked to the processing of the lead.received that handed the step over.
  const sent = await eventually('the retry that went through, in Jaeger', async () => {
    for (const trace of await smtpTraces(lead.leadId, 'confirmation')) {
      const span = smtpSpan(trace, lead.leadId);
      if (span && trace.traceID !== traceId && tag(span, 'otel.status_code') === undefined) return span;
    }
    return undefined;
  }, 45_000, 250);
  expect(Number(tag(sent, 'leadmesh.email.attempt'))).toBeGreaterThan(1);
  expect((sent.references ?? []).filter((r) => r.refType === 'CHILD_OF')).toEqual([]);
  expect(sent.references).toContainEqual(expect.objectContaining({ refType: 'FOLLOWS_FROM', traceID: traceId, spanID: processing!.spanID }));
  expect(await metric('leadmesh_email_sends_total', { kind: 'TRANSACTIONAL', outcome: 'sent' })).toBe(1);
  expect(await metric('leadmesh_email_sends_total', { kind: 'TRANSACTIONAL', outcome: 'failed' })).toBe(0);
});
