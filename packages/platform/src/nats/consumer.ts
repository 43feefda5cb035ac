import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { headers as natsHeaders, nanos } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { NatsClient } from './connection.js';
import { isNotFound } from './streams.js';
import { EVENT_ID_HEADER } from './publisher.js';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

const tracer = trace.getTracer('leadmesh-nats');

export interface EventContext {
  subject: string;
  eventId: string;
  deliveryCount: number;
  streamSequence: number;
}

/** One durable consumer: the subjects it reads, how to decode them, and the effect to apply. */
export interface EventHandler<Desc extends DescMessage = DescMessage> {
  /** Durable consumer name, shared by every replica of the service so they split the work. */
  durable: string;
  subject: string;
  schema: Desc;
  /** Overrides for a consumer whose failures are mostly a dependency being down (e.g. the CRM). */
  retry?: Partial<Pick<ConsumerOptions, 'maxDeliver' | 'backoffMs'>>;
  /** Must be idempotent: the same event may arrive more than once. Resolving means the effect is stored. */
  handle(event: MessageShape<Desc>, ctx: EventContext): Promise<void>;
}

export const HEADER_DEAD_LETTER_ERROR = 'Leadmesh-Error';
export const HEADER_ORIGINAL_SUBJECT = 'Leadmesh-Original-Subject';
export const HEADER_ORIGINAL_SEQUENCE = 'Leadmesh-Original-Sequence';
export const HEADER_CONSUMER = 'Leadmesh-Consumer';
export const HEADER_DELIVERIES = 'Leadmesh-Deliveries';

/** An event that cannot succeed however often it is retried (it does not decode, or is invalid). */
export class PoisonEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonEventError';
  }
}

export interface ConsumerOptions {
  maxDeliver: number;
  /** Delay before the n-th retry (n from 1); the last entry repeats. */
  backoffMs: number[];
  /** Events handled at once by one replica. */
  concurrency: number;
  ackWaitMs: number;
}

const defaults: ConsumerOptions = {
  maxDeliver: Number(process.env.CONSUMER_MAX_DELIVER ?? 6),
  backoffMs: [200, 1000, 5000, 15_000, 30_000],
  concurrency: Number(process.env.CONSUMER_CONCURRENCY ?? 32),
  ackWaitMs: 30_000,
};

/**
 * Runs a service's durable pull consumers: trace context joined across the broker, ack only after
 * the effect is stored, retries delayed with backoff, and an event that keeps failing parked in
 * the dead-letter stream with its error so one poison message never blocks the others.
 */
export class EventConsumers {
  private readonly handlers: EventHandler[] = [];
  private readonly running = new Map<string, ConsumerMessages>();
  private readonly started = new Set<string>();
  /** Events being handled, across this service's consumers: at most `concurrency` at once. */
  private readonly work: PQueue;
  private stopped = false;
  private lagTimer?: NodeJS.Timeout;
  /** Events about an erased lead are acknowledged and dropped: a replay must not bring the person back. */
  private isErased?: (leadId: string) => Promise<boolean>;

  constructor(
    private readonly nats: NatsClient,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: ConsumerOptions = defaults,
  ) {
    this.work = new PQueue({ concurrency: options.concurrency });
  }

  skipErasedLeads(isErased: (leadId: string) => Promise<boolean>): void {
    this.isErased = isErased;
  }

  register<Desc extends DescMessage>(handler: EventHandler<Desc>): void {
    this.handlers.push(handler as unknown as EventHandler);
  }

  /** Starts every registered consumer once NATS is up, and restarts them after a broker outage. */
  start(): void {
    const startAll = () => {
      for (const handler of this.handlers) {
        if (this.started.has(handler.durable)) continue;
        this.started.add(handler.durable);
        void this.run(handler);
      }
    };
    this.nats.onChange((connected) => connected && !this.stopped && startAll());
    void this.nats.ready().then(() => !this.stopped && startAll());
    this.lagTimer = setInterval(() => void this.reportLag(), 5000);
    this.lagTimer.unref();
  }

  /** Stops pulling and lets the events in hand finish, so a rollout drains instead of dropping. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.lagTimer);
    for (const messages of this.running.values()) await messages.close().catch(() => undefined);
    await this.work.onIdle();
  }

  private async run(handler: EventHandler): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      try {
        await this.ensureConsumer(handler);
        const consumer = await this.nats.js.consumers.get(this.nats.topology.pipelineStream, handler.durable);
        const messages = await consumer.consume({ max_messages: Math.max(this.options.concurrency, 16) });
        this.running.set(handler.durable, messages);
        this.logger.info({ consumer: handler.durable, subject: handler.subject }, 'consumer started');
        delay = 500;
        for await (const msg of messages) {
          if (this.stopped) break;
          void this.work.add(() => this.process(handler, msg)).catch((err: unknown) => {
            this.logger.error({ consumer: handler.durable, seq: msg.seq, err: (err as Error).message }, 'event handling failed outside its handler; the broker redelivers it');
          });
          // Take the next event only once this one has a slot: the rest wait in the broker, not
          // in this process (an unbounded in-process backlog was what let memory grow under load).
          if (this.work.size > 0) await this.work.onSizeLessThan(1);
        }
      } catch (err) {
        if (this.stopped) break;
        this.logger.warn({ consumer: handler.durable, err: (err as Error).message }, 'consumer interrupted, restarting');
      } finally {
        this.running.delete(handler.durable);
      }
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** Creates the durable consumer, or brings an existing one's settings up to date (rollouts change them). */
  private async ensureConsumer(handler: EventHandler): Promise<void> {
    const settings = {
      max_deliver: this.retryOf(handler).maxDeliver,
      ack_wait: nanos(this.options.ackWaitMs),
      max_ack_pending: 1000,
    };
    try {
      await this.nats.jsm.consumers.info(this.nats.topology.pipelineStream, handler.durable);
      await this.nats.jsm.consumers.update(this.nats.topology.pipelineStream, handler.durable, settings);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.nats.jsm.consumers.add(this.nats.topology.pipelineStream, {
        durable_name: handler.durable,
        filter_subject: this.nats.topology.subject(handler.subject),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...settings,
      });
    }
  }

  private retryOf(handler: EventHandler): Pick<ConsumerOptions, 'maxDeliver' | 'backoffMs'> {
    return { maxDeliver: handler.retry?.maxDeliver ?? this.options.maxDeliver, backoffMs: handler.retry?.backoffMs ?? this.options.backoffMs };
  }

  private async process(handler: EventHandler, msg: JsMsg): Promise<void> {
    const parent = extractTraceContext(msg.headers);
    const eventId = msg.headers?.get(EVENT_ID_HEADER) || `${msg.subject}:${msg.seq}`;
    const deliveryCount = msg.info.deliveryCount;
    const span = tracer.startSpan(
      `process ${msg.subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': msg.subject,
          'messaging.consumer.group.name': handler.durable,
          'messaging.message.id': eventId,
          'messaging.message.body.size': msg.data.byteLength,
          'messaging.nats.delivery_count': deliveryCount,
          'messaging.nats.stream.sequence': msg.seq,
        },
      },
      parent,
    );
    const end = this.metrics.eventDuration.startTimer({ consumer: handler.durable });
    if (deliveryCount > 1) this.metrics.redeliveries.inc({ consumer: handler.durable });
    // A slow store must not make the broker think the event was lost and hand it to another
    // replica while this one is still applying it: tell it we are working on it.
    const heartbeat = setInterval(() => msg.working(), Math.max(1000, this.options.ackWaitMs / 3));
    try {
      await context.with(trace.setSpan(parent, span), async () => {
        let event: MessageShape<DescMessage>;
        try {
          event = fromBinary(handler.schema, msg.data);
        } catch (err) {
          throw new PoisonEventError(`payload is not a valid ${handler.schema.typeName}: ${(err as Error).message}`);
        }
        const leadId = (event as { leadId?: unknown }).leadId;
        const contractSubject = this.nats.topology.contractSubject(msg.subject);
        if (this.isErased && typeof leadId === 'string' && leadId && contractSubject !== 'leadmesh.contact.erased' && (await this.isErased(leadId))) {
          span.setAttribute('leadmesh.skipped', 'lead erased');
          return;
        }
        await handler.handle(event, { subject: contractSubject, eventId, deliveryCount, streamSequence: msg.seq });
      });
      msg.ack();
      this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'ack' });
    } catch (err) {
      const error = err as Error;
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      const poison = error instanceof PoisonEventError;
      const retry = this.retryOf(handler);
      if (poison || deliveryCount >= retry.maxDeliver) {
        await this.park(handler, msg, error, span);
      } else {
        const backoff = retry.backoffMs;
        const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)]!;
        // A plain nak is redelivered at once even with a consumer backoff, so the delay is explicit.
        msg.nak(delay);
        this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'retry' });
        this.logger.warn({ consumer: handler.durable, eventId, deliveryCount, retryInMs: delay, err: error.message }, 'event failed, will retry');
      }
    } finally {
      clearInterval(heartbeat);
      end();
      span.end();
    }
  }

  /** Copies the event with its error into the dead-letter stream, then terminates it here. */
  private async park(handler: EventHandler, msg: JsMsg, error: Error, span: ReturnType<typeof tracer.startSpan>): Promise<void> {
    try {
      const headers = natsHeaders();
      for (const key of msg.headers?.keys() ?? []) headers.set(key, msg.headers!.get(key));
      headers.set(HEADER_DEAD_LETTER_ERROR, error.message.slice(0, 1000).replace(/[\r\n]+/g, ' '));
      headers.set(HEADER_ORIGINAL_SUBJECT, msg.subject);
      headers.set(HEADER_ORIGINAL_SEQUENCE, String(msg.seq));
      headers.set(HEADER_CONSUMER, handler.durable);
      headers.set(HEADER_DELIVERIES, String(msg.info.deliveryCount));
      injectTraceContext(headers, trace.setSpan(context.active(), span));
      await this.nats.js.publish(this.nats.topology.deadLetterSubject(handler.durable), msg.data, {
        msgID: `${handler.durable}:${msg.seq}`,
        headers,
      });
      msg.term(error.message.slice(0, 200));
      this.metrics.deadLetters.inc({ consumer: handler.durable });
      this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'dead_letter' });
      this.logger.error({ consumer: handler.durable, seq: msg.seq, err: error.message }, 'event parked in dead letters');
    } catch (parkErr) {
      // Could not park it: leave it for redelivery rather than lose it.
      msg.nak(5000);
      this.logger.error({ consumer: handler.durable, err: (parkErr as Error).message }, 'could not park event, will retry');
    }
  }

  private async reportLag(): Promise<void> {
    if (!this.nats.isConnected) return;
    for (const handler of this.handlers) {
      try {
        const info = await this.nats.jsm.consumers.info(this.nats.topology.pipelineStream, handler.durable);
        this.metrics.consumerLag.set({ consumer: handler.durable }, info.num_pending + info.num_ack_pending);
      } catch (err) {
        if (!isNotFound(err)) this.logger.debug({ err: (err as Error).message }, 'consumer lag unavailable');
      }
    }
  }
}
