// Shared set-up for nurture's stack tests: nurture as a process on the real NATS, FerretDB and
// Mailpit, events published into the test's own namespace, and Mailpit's HTTP API to read mail.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, nurture, scoring } from '@leadmesh/contracts';
import { EventPublisher, NatsClient, createClient, createLogger, encodeEvent, topology } from '@leadmesh/platform';
import { waitServing } from '../../../test/harness/health.ts';
import { ROOT, grpcAddress, httpUrl, startService, type RunningService, TEST_NATS_URL } from '../../../test/harness/stack.ts';

export const MAILPIT = 'http://127.0.0.1:8025';
/** One day of a track lasts this long in the test stacks. */
export const DAY_MS = 1000;

export interface NurtureStack {
  /** Starts nurture; `env` adds to or overrides the test settings (e.g. an SMTP_URL of the test's own). */
  start(env?: Record<string, string>): Promise<RunningService>;
  publish(event: ReturnType<typeof encodeEvent>): Promise<void>;
  client: ReturnType<typeof createClient<typeof nurture.NurtureService>>;
  httpUrl: string;
  close(): Promise<void>;
}

export async function nurtureStack(namespace: string, portOffset: number): Promise<NurtureStack> {
  const nats = new NatsClient(TEST_NATS_URL, 'test', createLogger('test', 'silent'), topology(namespace));
  const publisher = new EventPublisher(nats);
  // A generous deadline: these tests share a busy machine with other stacks.
  const client = createClient(nurture.NurtureService, grpcAddress('nurture', portOffset), { timeoutMs: 20_000 });
  const start = async (env: Record<string, string> = {}) => {
    const service = startService('nurture', {
      namespace,
      portOffset,
      logDir: join(ROOT, '.cache', 'logs', namespace),
      env: {
        NURTURE_SCHEDULER_INTERVAL_MS: '250',
        NURTURE_DELAY_SCALE: String(DAY_MS / 86_400_000),
        NURTURE_PUBLIC_URL: httpUrl('nurture', portOffset),
        NURTURE_FROM: 'leadmesh <hello@leadmesh.example>',
        // Short enough that a lease left by a killed replica expires within the test.
        NURTURE_LEASE_MS: '3000',
        ...env,
      },
    });
    await waitServing(grpcAddress('nurture', portOffset), 60_000);
    return service;
  };
  let started = false;
  return {
    start,
    async publish(event) {
      if (!started) {
        nats.start();
        await nats.ready();
        started = true;
      }
      await publisher.publish(event);
    },
    client,
    httpUrl: httpUrl('nurture', portOffset),
    async close() {
      client.close();
      if (started) await nats.close();
    },
  };
}

export const uniqueEmail = (tag: string) => `${tag}.${randomBytes(5).toString('hex')}@nurture-test.example`;

export interface TestLead {
  leadId: string;
  email: string;
  firstName?: string;
  company?: string;
  product?: string;
  formId?: string;
  consent: boolean;
}

export function testLead(tag: string, overrides: Partial<TestLead> = {}): TestLead {
  return { leadId: randomUUID(), email: uniqueEmail(tag), firstName: 'Ada', company: 'Example Analytics', consent: true, ...overrides };
}

function profile(lead: TestLead) {
  return {
    contact: { email: lead.email, firstName: lead.firstName ?? '', lastName: 'Lovelace', company: lead.company ?? '' },
    source: { formId: lead.formId ?? '' },
    interest: { product: lead.product ?? '' },
    consent: { emailMarketing: lead.consent, wordingVersion: '2026-01' },
  };
}

export const leadReceived = (lead: TestLead) =>
  encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, {
    eventId: `lead.received:${lead.leadId}`,
    leadId: lead.leadId,
    occurredAt: timestampFromDate(new Date()),
    submissionId: randomUUID(),
    profile: profile(lead),
    newLead: true,
  });

const score = (leadId: string) => ({ leadId, grade: 'B2', lifecycleStage: scoring.LifecycleStage.LEAD, fitScore: 40, engagementScore: 20 });

export const leadScored = (lead: TestLead) =>
  encodeEvent(SUBJECTS.leadScored, events.LeadScoredSchema, {
    eventId: `lead.scored:${lead.leadId}`,
    leadId: lead.leadId,
    occurredAt: timestampFromDate(new Date()),
    profile: profile(lead),
    score: score(lead.leadId),
  });

export const leadRouted = (lead: TestLead, ownerName: string) =>
  encodeEvent(SUBJECTS.leadRouted, events.LeadRoutedSchema, {
    eventId: `lead.routed:${lead.leadId}`,
    leadId: lead.leadId,
    occurredAt: timestampFromDate(new Date()),
    profile: profile(lead),
    score: score(lead.leadId),
    assignment: { leadId: lead.leadId, ownerId: 'grace', ownerName, teamId: 'emea', ruleId: 'test', reason: 'test' },
  });

export interface MailpitSummary {
  ID: string;
  MessageID: string;
  Subject: string;
  To: Array<{ Address: string }>;
}

export async function mailTo(address: string): Promise<MailpitSummary[]> {
  const res = await fetch(`${MAILPIT}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}&limit=200`);
  if (!res.ok) throw new Error(`Mailpit search answered ${res.status}`);
  const body = (await res.json()) as { messages: MailpitSummary[] };
  // Search matches substrings; keep exact recipients only.
  return body.messages.filter((m) => m.To.some((t) => t.Address.toLowerCase() === address.toLowerCase()));
}

export async function mailDetail(id: string): Promise<{ Subject: string; Text: string; HTML: string; MessageID: string }> {
  const res = await fetch(`${MAILPIT}/api/v1/message/${id}`);
  if (!res.ok) throw new Error(`Mailpit message answered ${res.status}`);
  return (await res.json()) as { Subject: string; Text: string; HTML: string; MessageID: string };
}

export async function mailHeaders(id: string): Promise<Record<string, string[]>> {
  const res = await fetch(`${MAILPIT}/api/v1/message/${id}/headers`);
  if (!res.ok) throw new Error(`Mailpit headers answered ${res.status}`);
  return (await res.json()) as Record<string, string[]>;
}

export { eventually } from '../../../test/harness/eventually.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
