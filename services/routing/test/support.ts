// Shared set-up for routing's stack tests: routing replicas started as processes on the real NATS
// and FerretDB, in a namespace of their own that is wiped before each file runs.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, routing, scoring } from '@leadmesh/contracts';
import { EventPublisher, NatsClient, createClient, createLogger, type ServiceClient, encodeEvent, ensureStreams, topology } from '@leadmesh/platform';
import mongoose, { type Connection } from 'mongoose';
import { waitServing } from '../../../test/harness/health.ts';
import { ROOT, grpcAddress, startService, stopService, type RunningService, TEST_NATS_URL } from '../../../test/harness/stack.ts';

export interface RoutingStack {
  replicas: RunningService[];
  clients: Array<ServiceClient<typeof routing.RoutingService.method>>;
  nats: NatsClient;
  publisher: EventPublisher;
  db: Connection;
  stop(): Promise<void>;
}

/** Starts `portOffsets.length` routing replicas sharing one namespace, after wiping its streams and database. */
export async function startRouting(namespace: string, portOffsets: number[], env: Record<string, string> = {}): Promise<RoutingStack> {
  const t = topology(namespace);
  const nats = new NatsClient(TEST_NATS_URL, 'routing-test', createLogger('test', 'silent'), t);
  nats.start();
  await nats.ready();
  // A previous run's events and durable consumers must not leak into this one.
  for (const stream of [t.pipelineStream, t.deadLetterStream]) await nats.jsm.streams.delete(stream).catch(() => undefined);
  await ensureStreams(nats.jsm, t);

  const db = mongoose.createConnection(`mongodb://127.0.0.1:27017/`, { dbName: `leadmesh_${namespace.replace(/-/g, '_')}_routing` });
  await db.asPromise();
  await db.dropDatabase();

  const replicas = portOffsets.map((portOffset, i) =>
    startService('routing', { namespace, portOffset, logDir: join(ROOT, '.cache', 'logs', namespace, `replica-${i}`), env }),
  );
  await Promise.all(portOffsets.map((offset) => waitServing(grpcAddress('routing', offset), 60_000)));
  const clients = portOffsets.map((offset) => createClient(routing.RoutingService, grpcAddress('routing', offset)));
  return {
    replicas,
    clients,
    nats,
    publisher: new EventPublisher(nats),
    db,
    async stop() {
      for (const c of clients) c.close();
      await Promise.all(replicas.map((r) => stopService(r)));
      await nats.close();
      await db.close();
    },
  };
}

export interface LeadInput {
  email?: string;
  country?: string;
  companySize?: number;
  formId?: string;
  grade?: string;
  stage?: scoring.LifecycleStage;
}

/** A profile and score that routing's seed rules send to the SMB desk through the Contact Sales form. */
export function contactSalesLead(input: LeadInput = {}) {
  const profile = {
    contact: {
      email: input.email ?? `buyer.${randomUUID().slice(0, 8)}@example-retail.org`,
      firstName: 'Test',
      lastName: 'Lead',
      country: input.country ?? 'DE',
      companySize: input.companySize ?? 40,
    },
    source: { formId: input.formId ?? 'contact-sales' },
    interest: { product: 'analytics' },
  };
  const score = { grade: input.grade ?? 'C2', lifecycleStage: input.stage ?? scoring.LifecycleStage.LEAD, fitScore: 30 };
  return { profile, score };
}

export function scoredEvent(leadId: string, input: LeadInput = {}) {
  const { profile, score } = contactSalesLead(input);
  return encodeEvent(SUBJECTS.leadScored, events.LeadScoredSchema, {
    eventId: `test-scored:${leadId}`,
    leadId,
    occurredAt: timestampFromDate(new Date()),
    profile,
    score,
  });
}

export { eventually } from '../../../test/harness/eventually.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StoredAssignment {
  _id: string;
  ownerId: string;
  previousOwnerIds: string[];
  history: Array<Record<string, unknown>>;
}
