// Shared by scoring's stack tests: a clean namespace, events into it, lead.scored out of it.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Subscription } from '@nats-io/nats-core';
import { SUBJECTS, events, type lead } from '@leadmesh/contracts';
import { EventPublisher, NatsClient, createLogger, encodeEvent, loadConfig, topology } from '@leadmesh/platform';
import mongoose from 'mongoose';
import { ROOT, TEST_NATS_URL } from '../../../test/harness/stack.ts';

export const logDir = (namespace: string) => join(ROOT, '.cache', 'logs', namespace);

/** Drops the namespace's scoring database and streams, so every run starts from nothing. */
export async function resetNamespace(namespace: string, nats: NatsClient): Promise<void> {
  const database = loadConfig('scoring', { LEADMESH_NAMESPACE: namespace }).mongoDatabase;
  const connection = await mongoose.createConnection('mongodb://127.0.0.1:27017/', { dbName: database }).asPromise();
  await connection.dropDatabase();
  await connection.close();
  const t = topology(namespace);
  for (const stream of [t.pipelineStream, t.deadLetterStream]) await nats.jsm.streams.delete(stream).catch(() => undefined);
}

export async function connectNats(namespace: string): Promise<NatsClient> {
  const nats = new NatsClient(TEST_NATS_URL, 'scoring-test', createLogger('test', 'silent'), topology(namespace));
  nats.start();
  await nats.ready();
  return nats;
}

type Profile = MessageInitShape<typeof lead.LeadProfileSchema>;

/** A Director of Engineering at a 120-person German software company: fit grade A under both shipped rule sets. */
export function directorProfile(tag: string): Profile {
  return {
    contact: {
      email: `${tag}.${randomUUID().slice(0, 8)}@example-software.de`,
      firstName: 'Dana',
      lastName: 'Director',
      company: 'Example Software GmbH',
      jobTitle: 'Director of Engineering',
      companySize: 120,
      industry: 'Software',
      country: 'DE',
    },
    source: { formId: 'contact-sales' },
  };
}

export async function publishLeadReceived(nats: NatsClient, leadId: string, profile: Profile): Promise<void> {
  await new EventPublisher(nats).publish(
    encodeEvent(SUBJECTS.leadReceived, events.LeadReceivedSchema, {
      eventId: `lead.received:${leadId}:${randomUUID()}`,
      leadId,
      occurredAt: timestampFromDate(new Date()),
      submissionId: randomUUID(),
      profile,
      newLead: true,
    }),
  );
}

export async function publishActivity(nats: NatsClient, leadId: string, type: string, occurredAt = new Date()): Promise<string> {
  const activityId = randomUUID();
  await new EventPublisher(nats).publish(
    encodeEvent(SUBJECTS.activityRecorded, events.ActivityRecordedSchema, {
      eventId: `activity.recorded:${activityId}`,
      leadId,
      occurredAt: timestampFromDate(occurredAt),
      activityId,
      activityType: `ACTIVITY_TYPE_${type}`,
      url: 'https://example.com/pricing',
    }),
  );
  return activityId;
}

/** Every lead.scored published in the namespace, seen with a plain NATS subscription. */
export class ScoredEvents {
  readonly received: Array<{ eventId: string; event: events.LeadScored }> = [];
  private readonly subscription: Subscription;

  constructor(nats: NatsClient) {
    const subscription = nats.connection.subscribe(nats.topology.subject(SUBJECTS.leadScored));
    this.subscription = subscription;
    void (async () => {
      for await (const msg of subscription) {
        this.received.push({ eventId: msg.headers?.get('Leadmesh-Event-Id') ?? '', event: fromBinary(events.LeadScoredSchema, msg.data) });
      }
    })();
  }

  forLead(leadId: string): events.LeadScored[] {
    return this.received.filter((r) => r.event.leadId === leadId).map((r) => r.event);
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

export { eventually } from '../../../test/harness/eventually.ts';
