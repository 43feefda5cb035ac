import { fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { StoredMsg } from '@nats-io/jetstream';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { parkedevents } from '@leadmesh/contracts';
import type { Logger } from 'pino';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { NatsClient } from './connection.js';
import {
  HEADER_CONSUMER,
  HEADER_DEAD_LETTER_ERROR,
  HEADER_DELIVERIES,
  HEADER_ORIGINAL_SEQUENCE,
  HEADER_ORIGINAL_SUBJECT,
  type EventConsumers,
} from './consumer.js';
import { EVENT_ID_HEADER } from './publisher.js';
import { isNotFound } from './streams.js';
import { extractTraceContext } from './trace-context.js';

const tracer = trace.getTracer('leadmesh-nats');
const DEFAULT_PAGE_SIZE = 50;

type ParkedEvent = MessageInitShape<typeof parkedevents.ParkedEventSchema>;

export interface ReplayTally {
  replayed: number;
  failed: number;
  stillParked: ParkedEvent[];
}

/**
 * The events this service's consumers parked in the dead-letter stream, for an operator to list
 * and replay (leadmesh.parkedevents.v1, served by every service). A replay hands the event to the
 * consumer that parked it, in this process, and removes it from the stream once applied: the
 * handlers are idempotent, so an event applied since (by another replay) changes nothing.
 */
export class ParkedEvents {
  constructor(
    private readonly nats: NatsClient,
    private readonly consumers: EventConsumers,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  private get stream(): string {
    return this.nats.topology.deadLetterStream;
  }

  /** Sets leadmesh_parked_events for each of this service's consumers, from one stream info call. */
  async reportCounts(): Promise<void> {
    if (!this.nats.isConnected) return;
    let held: Record<string, number> = {};
    try {
      const info = await this.nats.jsm.streams.info(this.stream, { subjects_filter: this.nats.topology.deadLetterSubject('>') });
      held = info.state.subjects ?? {};
    } catch (err) {
      // No dead-letter stream yet: nothing was ever parked.
      if (!isNotFound(err)) throw err;
    }
    for (const durable of this.consumers.durables) this.metrics.parkedEvents.set({ consumer: durable }, held[this.nats.topology.deadLetterSubject(durable)] ?? 0);
  }

  /** Oldest first; the page token is the stream sequence to go on from. */
  async list(pageSize: number, pageToken: string): Promise<{ parkedEvents: ParkedEvent[]; nextPageToken: string }> {
    const size = pageSize || DEFAULT_PAGE_SIZE;
    const from = decodePageToken(pageToken);
    // One walk per consumer subject (direct gets by subject from a sequence), merged in stream order.
    const found: StoredMsg[] = [];
    for (const durable of this.consumers.durables) {
      const subject = this.nats.topology.deadLetterSubject(durable);
      // One more than a page from each, to know whether another page follows.
      for (let seq = from, taken = 0; taken <= size; taken++) {
        const msg = await this.nextOn(subject, seq);
        if (!msg) break;
        found.push(msg);
        seq = msg.seq + 1;
      }
    }
    found.sort((a, b) => a.seq - b.seq);
    const page = found.slice(0, size);
    return {
      parkedEvents: page.map((m) => this.describe(m)),
      nextPageToken: found.length > size ? encodePageToken(page.at(-1)!.seq + 1) : '',
    };
  }

  async replay(target: { sequence: number } | { all: true }): Promise<ReplayTally> {
    const tally: ReplayTally = { replayed: 0, failed: 0, stillParked: [] };
    if ('sequence' in target) {
      const msg = await this.get(target.sequence);
      if (!msg || !this.consumers.handlerOf(msg.header.get(HEADER_CONSUMER))) throw new NotFoundError(`parked event ${target.sequence} of this service`);
      await this.replayOne(msg, tally);
      return tally;
    }
    // A page at a time from the front; an event that fails again stays behind the cursor, so the pass ends.
    for (let token = ''; ; ) {
      const { parkedEvents, nextPageToken } = await this.list(100, token);
      for (const parked of parkedEvents) {
        const msg = await this.get(Number(parked.sequence));
        if (msg) await this.replayOne(msg, tally);
      }
      if (!nextPageToken) break;
      token = nextPageToken;
    }
    this.logger.info({ replayed: tally.replayed, failed: tally.failed }, 'replay of parked events finished');
    return tally;
  }

  private async replayOne(msg: StoredMsg, tally: ReplayTally): Promise<void> {
    const durable = msg.header.get(HEADER_CONSUMER);
    const handler = this.consumers.handlerOf(durable)!;
    const subject = msg.header.get(HEADER_ORIGINAL_SUBJECT);
    const eventId = msg.header.get(EVENT_ID_HEADER) || `${subject}:${msg.header.get(HEADER_ORIGINAL_SEQUENCE)}`;
    const span = tracer.startSpan(
      `replay ${this.nats.topology.contractSubject(subject)}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.destination.name': subject,
          'messaging.consumer.group.name': durable,
          'messaging.message.id': eventId,
          'leadmesh.parked.sequence': msg.seq,
        },
      },
      extractTraceContext(msg.header),
    );
    try {
      await context.with(trace.setSpan(context.active(), span), async () => {
        const event = fromBinary(handler.schema, msg.data);
        // A parked event of a contact erased since has nothing left to apply: it leaves the stream.
        if ((await this.consumers.open(handler.schema, event)) === 'erased') {
          span.setAttribute('leadmesh.skipped', 'contact key shredded');
          return;
        }
        await handler.handle(event, {
          subject: this.nats.topology.contractSubject(subject),
          eventId,
          deliveryCount: Number(msg.header.get(HEADER_DELIVERIES) || 1) + 1,
          streamSequence: Number(msg.header.get(HEADER_ORIGINAL_SEQUENCE) || 0),
        });
      });
      await this.nats.jsm.streams.deleteMessage(this.stream, msg.seq, false);
      tally.replayed += 1;
    } catch (err) {
      const error = err as Error;
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      tally.failed += 1;
      tally.stillParked.push({ ...this.describe(msg), error: error.message.slice(0, 1000) });
      this.logger.warn({ consumer: durable, sequence: msg.seq, err: error.message }, 'parked event failed again on replay');
    } finally {
      span.end();
    }
  }

  private describe(msg: StoredMsg): ParkedEvent {
    const h = msg.header;
    const durable = h.get(HEADER_CONSUMER);
    const subject = h.get(HEADER_ORIGINAL_SUBJECT);
    return {
      sequence: BigInt(msg.seq),
      consumer: durable,
      subject: this.nats.topology.contractSubject(subject),
      eventId: h.get(EVENT_ID_HEADER),
      leadId: leadIdOf(this.consumers.handlerOf(durable)?.schema, msg.data),
      error: h.get(HEADER_DEAD_LETTER_ERROR),
      deliveries: Number(h.get(HEADER_DELIVERIES) || 0),
      parkedAt: timestampFromMs(msg.time.getTime()),
      traceId: traceIdOf(h),
    };
  }

  private async nextOn(subject: string, seq: number): Promise<StoredMsg | null> {
    try {
      return await this.nats.jsm.direct.getMessage(this.stream, { next_by_subj: subject, seq });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private async get(seq: number): Promise<StoredMsg | null> {
    try {
      return await this.nats.jsm.streams.getMessage(this.stream, { seq });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

function leadIdOf(schema: Parameters<typeof fromBinary>[0] | undefined, data: Uint8Array): string {
  if (!schema) return '';
  try {
    const leadId = (fromBinary(schema, data) as { leadId?: unknown }).leadId;
    return typeof leadId === 'string' ? leadId : '';
  } catch {
    return ''; // it was parked because it does not decode
  }
}

function traceIdOf(headers: MsgHdrs): string {
  return /^[\da-f]{2}-([\da-f]{32})-/.exec(headers.get('traceparent'))?.[1] ?? '';
}

function encodePageToken(seq: number): string {
  return Buffer.from(`from:${seq}`).toString('base64url');
}

function decodePageToken(token: string): number {
  if (token === '') return 1;
  const match = /^from:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw new InvalidArgumentError([{ field: 'page_token', description: 'is not a token from a previous ListParkedEvents answer' }], 'ListParkedEventsRequest');
  return Number(match[1]);
}
