import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NatsClient } from './connection.js';
import type { EventSealing } from './contact-keys.js';
import { captureTraceContext, injectTraceContext, restoreTraceContext } from './trace-context.js';

const tracer = trace.getTracer('leadmesh-nats');

export const EVENT_ID_HEADER = 'Leadmesh-Event-Id';
export const EVENT_TYPE_HEADER = 'Leadmesh-Event-Type';

/** An event ready to publish: what an outbox stores beside the effect that caused it. */
export interface OutgoingEvent {
  subject: string;
  /** Also the Nats-Msg-Id: deterministic, so a retried publish is de-duplicated by the stream. */
  eventId: string;
  type: string;
  payload: Uint8Array;
  /** W3C trace context of the work that produced the event. */
  trace: Record<string, string>;
  createdAt: Date;
}

export function encodeEvent<Desc extends DescMessage>(
  subject: string,
  schema: Desc,
  event: MessageInitShape<Desc> & { eventId: string },
): OutgoingEvent {
  const bytes = toBinary(schema, create(schema, event));
  return {
    subject,
    eventId: event.eventId,
    type: schema.typeName,
    // A Buffer view (no copy): what the store's driver persists as binary.
    payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    trace: captureTraceContext(),
    createdAt: new Date(),
  };
}

export class EventPublisher {
  constructor(
    private readonly nats: NatsClient,
    /** Seals the personal fields with the contact's key; a service's publisher always has it (tests' may not). */
    private readonly sealing?: EventSealing,
  ) {}

  /**
   * Publishes and waits for the stream's acknowledgement. An event about an erased contact (its key
   * shredded) that still holds personal data is not published: it resolves as done, so an outbox
   * lets it go.
   */
  async publish(event: OutgoingEvent): Promise<void> {
    const parent = restoreTraceContext(event.trace);
    const span = tracer.startSpan(
      `publish ${event.subject}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'publish',
          'messaging.destination.name': event.subject,
          'messaging.message.id': event.eventId,
          'messaging.message.body.size': event.payload.byteLength,
        },
      },
      parent,
    );
    try {
      const payload = this.sealing ? await context.with(trace.setSpan(parent, span), () => this.sealing!.seal(event)) : event.payload;
      if (payload === null) {
        span.setAttribute('leadmesh.skipped', 'contact erased');
        return;
      }
      const headers = natsHeaders();
      headers.set(EVENT_ID_HEADER, event.eventId);
      headers.set(EVENT_TYPE_HEADER, event.type);
      injectTraceContext(headers, trace.setSpan(parent, span));
      const ack = await context.with(trace.setSpan(parent, span), () =>
        this.nats.js.publish(this.nats.topology.subject(event.subject), payload, { msgID: event.eventId, headers }),
      );
      span.setAttribute('messaging.nats.stream.sequence', ack.seq);
      if (ack.duplicate) span.setAttribute('messaging.nats.duplicate', true);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  }
}
