import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { headers as natsHeaders, nanos } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.js';
import { PoisonEventError, classifyFailure, isInfrastructureFailure, safeErrorText } from '../failures.js';
import type { Metrics } from '../metrics.js';
import { PeriodicWork } from '../periodic-work.js';
import type { NatsClient } from './connection.js';
import type { EventSealing, Opened } from './contact-keys.js';
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
  /**
   * Overrides for a consumer whose failures are mostly a dependency being down (e.g. the CRM). Only
   * the service's own store and broker count as infrastructure; anything else a handler throws is
   * spent from this budget, and `EventContext.deliveryCount` tells the handler where it stands.
   */
  retry?: Partial<Pick<ConsumerOptions, 'maxDeliver' | 'backoffMs'>>;
  /** Must be idempotent: the same event may arrive more than once. Resolving means the effect is stored. */
  handle(event: MessageShape<Desc>, ctx: EventContext): Promise<void>;
}

export const HEADER_DEAD_LETTER_ERROR = 'Leadmesh-Error';
export const HEADER_ORIGINAL_SUBJECT = 'Leadmesh-Original-Subject';
export const HEADER_ORIGINAL_SEQUENCE = 'Leadmesh-Original-Sequence';
export const HEADER_CONSUMER = 'Leadmesh-Consumer';
export const HEADER_DELIVERIES = 'Leadmesh-Deliveries';

export { PoisonEventError, classifyFailure, isInfrastructureFailure, safeErrorText, type FailureKind } from '../failures.js';

export interface ConsumerOptions {
  /** Deliveries an event failing on its merits gets before it is parked (enforced here, not by the broker). */
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

/** How often a held service asks its store and broker whether they answer: first after this, then doubling. */
const PROBE_FIRST_MS = 500;
const PROBE_MAX_MS = 5000;
/** A probe that neither answers nor fails counts as no answer. */
const PROBE_TIMEOUT_MS = 10_000;

/** Something the consumers need to apply events (the store, the broker), and how to ask whether it answers. */
export interface Dependency {
  name: string;
  /** Resolves when it answers; rejects (or hangs) while it does not. */
  answers(): Promise<unknown>;
}

interface Hold {
  reason: string;
  since: number;
  resumed: Promise<void>;
  resume(): void;
}

type Outcome = 'done' | 'held';

/** Tells the broker the event is still being worked on; false when the connection it came on has closed. */
function stillOurs(msg: JsMsg): boolean {
  try {
    msg.working();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    // Unreferenced: a held service that is told to stop must not wait for its next probe to exit.
    setTimeout(resolve, ms).unref();
  });

/**
 * Runs a service's durable pull consumers: trace context joined across the broker, ack only after
 * the effect is stored, retries delayed with backoff, and an event that keeps failing on its merits
 * parked in the dead-letter stream with its error so one poison message never blocks the others.
 *
 * When the store or broker cannot be reached, no event is at fault: every consumer of the service
 * stops pulling (a hold), the service reports NOT_SERVING, the events in hand stay in hand, and all
 * resume by themselves once every dependency answers again, however long that takes.
 */
export class EventConsumers {
  private readonly handlers: EventHandler[] = [];
  private readonly running = new Map<string, ConsumerMessages>();
  /** Events taken from the broker and not yet acked, nak'ed or parked (handled, queued or held). */
  private readonly inHand = new Set<Promise<void>>();
  /** Events being handled, across this service's consumers: at most `concurrency` at once. */
  private readonly work: PQueue;
  private readonly dependencies: Dependency[] = [];
  private readonly holdListeners = new Set<(held: boolean) => void>();
  private hold?: Hold;
  private started = false;
  private stopped = false;
  private readonly lagReport = new PeriodicWork('consumer lag report', () => this.reportLag(), { everyMs: 5000 });
  /** Events about an erased lead are acknowledged and dropped: a replay must not bring the person back. */
  private isErased?: (leadId: string) => Promise<boolean>;
  /** Opens the personal fields events carry sealed with their contact's key. */
  private sealing?: EventSealing;

  constructor(
    private readonly nats: NatsClient,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: ConsumerOptions = defaults,
  ) {
    this.work = new PQueue({ concurrency: options.concurrency });
    this.dependOn({
      name: 'broker',
      answers: async () => {
        if (!nats.isConnected) throw new UnavailableError('event broker (NATS) is not connected');
        await nats.jsm.getAccountInfo();
      },
    });
  }

  skipErasedLeads(isErased: (leadId: string) => Promise<boolean>): void {
    this.isErased = isErased;
  }

  openSealedEvents(sealing: EventSealing): void {
    this.sealing = sealing;
  }

  /**
   * Puts a decoded event's sealed personal fields back in place for its handler (also for a replay
   * of a parked event). 'erased' when the contact's key is shredded: the personal data is gone and
   * the event must be dropped, not applied and not parked.
   */
  async open(schema: DescMessage, event: MessageShape<DescMessage>): Promise<Opened> {
    return this.sealing ? this.sealing.open(schema, event) : 'open';
  }

  /** This service's durable consumers, by name: whose parked events it lists and replays. */
  get durables(): string[] {
    return this.handlers.map((h) => h.durable);
  }

  handlerOf(durable: string): EventHandler | undefined {
    return this.handlers.find((h) => h.durable === durable);
  }

  register<Desc extends DescMessage>(handler: EventHandler<Desc>): void {
    this.handlers.push(handler as unknown as EventHandler);
  }

  /** A dependency a hold waits for (the broker is one already); the platform adds the service's store. */
  dependOn(dependency: Dependency): void {
    this.dependencies.push(dependency);
  }

  /** True while the consumers wait for the store or broker: the service is then NOT_SERVING. */
  get isHeld(): boolean {
    return this.hold !== undefined;
  }

  onHeldChange(listener: (held: boolean) => void): void {
    this.holdListeners.add(listener);
  }

  /**
   * Stops pulling on every consumer of the service until every dependency answers again. Called on
   * an infrastructure failure while applying an event, and by whoever learns first that the store
   * or broker is gone. Idempotent: one hold at a time.
   */
  holdFor(reason: string, err?: unknown): void {
    if (this.stopped || this.hold) return;
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const hold: Hold = { reason, since: Date.now(), resumed, resume };
    this.hold = hold;
    this.logger.warn({ reason, err: err instanceof Error ? err.message : undefined }, 'consumers held: stopped pulling until the store and broker answer');
    // Not awaited: an iterator closes once its loop has taken the messages it already holds, and
    // those are held in hand too.
    for (const messages of this.running.values()) void messages.close().catch(() => undefined);
    for (const listener of this.holdListeners) listener(true);
    void this.resumeWhenAnswering(hold);
  }

  /** Starts every registered consumer once NATS is up; each keeps going through broker and store outages. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.nats.onChange((connected) => !connected && this.holdFor('event broker disconnected'));
    void this.nats.ready().then(() => {
      if (this.stopped) return;
      for (const handler of this.handlers) void this.run(handler);
    });
    this.lagReport.start();
  }

  /** Stops pulling and lets the events in hand finish, so a rollout drains instead of dropping. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.lagReport.stop();
    // Held events wake up, see the stop and go back to the broker for another replica.
    this.hold?.resume();
    for (const messages of this.running.values()) await messages.close().catch(() => undefined);
    while (this.inHand.size > 0) await Promise.allSettled([...this.inHand]);
    await this.work.onIdle();
  }

  private async resumeWhenAnswering(hold: Hold): Promise<void> {
    let delay = PROBE_FIRST_MS;
    for (;;) {
      await sleep(delay);
      if (this.stopped || this.hold !== hold) return;
      const silent = await this.silentDependency();
      if (!silent) break;
      this.logger.debug({ dependency: silent.name, err: silent.err, heldMs: Date.now() - hold.since }, 'still held: dependency does not answer');
      delay = Math.min(delay * 2, PROBE_MAX_MS);
    }
    this.hold = undefined;
    hold.resume();
    this.logger.info({ reason: hold.reason, heldMs: Date.now() - hold.since }, 'consumers resumed: store and broker answer again');
    for (const listener of this.holdListeners) listener(false);
  }

  /** The first dependency that does not answer, or undefined when all do. */
  private async silentDependency(): Promise<{ name: string; err: string } | undefined> {
    for (const dependency of this.dependencies) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          dependency.answers(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS))),
        ]);
      } catch (err) {
        return { name: dependency.name, err: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }
    return undefined;
  }

  private async run(handler: EventHandler): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      if (this.hold) {
        await this.hold.resumed;
        continue;
      }
      let messages: ConsumerMessages | undefined;
      try {
        await this.ensureConsumer(handler);
        const consumer = await this.nats.js.consumers.get(this.nats.topology.pipelineStream, handler.durable);
        messages = await consumer.consume({ max_messages: Math.max(this.options.concurrency, 16) });
        this.running.set(handler.durable, messages);
        // A hold or stop that came while this consumer was starting did not see it.
        if (this.hold || this.stopped) void messages.close().catch(() => undefined);
        else this.logger.info({ consumer: handler.durable, subject: handler.subject }, 'consumer started');
        delay = 500;
        for await (const msg of messages) {
          if (this.stopped) {
            // Taken from the broker after the stop began: give it straight back for another replica.
            msg.nak();
            continue;
          }
          this.dispatch(handler, msg);
          // Take the next event only once this one has a slot: the rest wait in the broker, not
          // in this process (an unbounded in-process backlog was what let memory grow under load).
          if (this.work.size > 0) await this.work.onSizeLessThan(1);
        }
      } catch (err) {
        if (this.stopped) break;
        if (isInfrastructureFailure(err)) this.holdFor(`consumer ${handler.durable} cannot reach the broker`, err);
        else this.logger.warn({ consumer: handler.durable, err: (err as Error).message }, 'consumer interrupted, restarting');
      } finally {
        if (messages && this.running.get(handler.durable) === messages) this.running.delete(handler.durable);
      }
      if (this.stopped || this.hold) continue;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** Creates the durable consumer, or brings an existing one's settings up to date (rollouts change them). */
  private async ensureConsumer(handler: EventHandler): Promise<void> {
    const settings = {
      // Unlimited at the broker, on purpose. JetStream stops delivering an event once its
      // deliveries reach max_deliver, with no dead letter and whatever caused each delivery, so a
      // finite limit there is a way to lose events to infrastructure: a held event stays in hand
      // through a store outage (heartbeats, no redelivery), but each broker outage or crash while
      // it is in hand lets its ack wait run out and counts one more delivery. The budget for
      // events that fail on their merits (`maxDeliver`, per handler `retry`) is enforced by
      // process() on the delivery count instead, and ends in the dead-letter stream, never in a
      // drop. Deliveries spent on crashes and broker outages only shorten that budget. The price:
      // an event that kills the process every time is redelivered for ever (watch
      // leadmesh_event_redeliveries_total) where JetStream would have dropped it without a trace.
      max_deliver: -1,
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

  /** Takes one event in hand until it is acked, retried later, parked, or given back at a stop. */
  private dispatch(handler: EventHandler, msg: JsMsg): void {
    // From the moment it is taken, queued or held as much as handled: a slow store or a long hold
    // must not make the broker think the event was lost and hand it to another replica, which
    // would also count a delivery against its budget.
    const heartbeat = setInterval(() => stillOurs(msg), Math.max(1000, this.options.ackWaitMs / 3));
    const done: Promise<void> = this.deliver(handler, msg)
      .catch((err: unknown) => {
        this.logger.error({ consumer: handler.durable, seq: msg.seq, err: (err as Error).message }, 'event handling failed outside its handler; the broker redelivers it');
      })
      .finally(() => {
        clearInterval(heartbeat);
        this.inHand.delete(done);
      });
    this.inHand.add(done);
  }

  private async deliver(handler: EventHandler, msg: JsMsg): Promise<void> {
    const parent = extractTraceContext(msg.headers);
    const eventId = msg.headers?.get(EVENT_ID_HEADER) || `${msg.subject}:${msg.seq}`;
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
          'messaging.nats.delivery_count': msg.info.deliveryCount,
          'messaging.nats.stream.sequence': msg.seq,
        },
      },
      parent,
    );
    if (msg.info.deliveryCount > 1) this.metrics.redeliveries.inc({ consumer: handler.durable });
    try {
      // Queued synchronously on the first pass, so the pull loop sees the slot taken.
      while ((await this.work.add(() => this.attempt(handler, msg, span, parent, eventId))) === 'held') {
        await (this.hold?.resumed ?? Promise.resolve());
        if (this.stopped) {
          // Shutting down while held: back to the broker at once, for another replica or the next start.
          msg.nak();
          span.setAttribute('leadmesh.released', 'service stopping while held');
          return;
        }
        if (!stillOurs(msg)) {
          // Taken on a connection that has closed since: the broker redelivers it on the new one
          // once its ack wait runs out, and an ack from here could never reach it.
          span.setAttribute('leadmesh.released', 'connection closed while held');
          return;
        }
      }
    } finally {
      span.end();
    }
  }

  /** One try at applying the event: 'held' when the store or broker does not answer, to try again once they do. */
  private async attempt(handler: EventHandler, msg: JsMsg, span: Span, parent: Context, eventId: string): Promise<Outcome> {
    // Do not knock on a door known to be shut: the hold's probe says when to try again.
    if (this.hold) {
      this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'held' });
      return 'held';
    }
    const deliveryCount = msg.info.deliveryCount;
    const end = this.metrics.eventDuration.startTimer({ consumer: handler.durable });
    let applied = false;
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
        // Erased elsewhere before this replica heard of it: the key is gone, and so is the lead.
        if ((await this.open(handler.schema, event)) === 'erased') {
          span.setAttribute('leadmesh.skipped', 'contact key shredded');
          return;
        }
        await handler.handle(event, { subject: contractSubject, eventId, deliveryCount, streamSequence: msg.seq });
      });
      applied = true;
      msg.ack();
      this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'ack' });
      return 'done';
    } catch (err) {
      const error = err as Error;
      if (applied) {
        // Stored, but the ack could not be sent (the connection it came on has closed): the broker
        // redelivers it and the handler recognises it as applied.
        this.logger.warn({ consumer: handler.durable, eventId, err: error.message }, 'event applied but not acknowledged; the broker redelivers it');
        return 'done';
      }
      if (classifyFailure(error) === 'infrastructure') {
        if (this.stopped) {
          // Shutting down: back to the broker at once rather than held by a process that is leaving.
          msg.nak();
          return 'done';
        }
        // Nothing is wrong with the event: keep it in hand, no nak (a redelivery would count
        // against its budget), and hold every consumer until the store and broker answer.
        span.addEvent('held: store or broker unreachable', { 'exception.message': error.message });
        this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'held' });
        this.holdFor(`${handler.durable} could not reach the store or broker`, error);
        return 'held';
      }
      // Codes, not outside text, in spans, logs and the dead-letter header (safeErrorText).
      const text = safeErrorText(error);
      span.recordException({ name: error.name, message: text });
      span.setStatus({ code: SpanStatusCode.ERROR, message: text });
      const retry = this.retryOf(handler);
      if (error instanceof PoisonEventError || deliveryCount >= retry.maxDeliver) {
        await this.park(handler, msg, error, span);
      } else {
        const backoff = retry.backoffMs;
        const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)]!;
        // A plain nak is redelivered at once even with a consumer backoff, so the delay is explicit.
        msg.nak(delay);
        this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'retry' });
        this.logger.warn({ consumer: handler.durable, eventId, deliveryCount, retryInMs: delay, err: text }, 'event failed, will retry');
      }
      return 'done';
    } finally {
      end();
    }
  }

  /** Copies the event with its error into the dead-letter stream, then terminates it here. */
  private async park(handler: EventHandler, msg: JsMsg, error: Error, span: Span): Promise<void> {
    try {
      const headers = natsHeaders();
      for (const key of msg.headers?.keys() ?? []) headers.set(key, msg.headers!.get(key));
      const text = safeErrorText(error);
      headers.set(HEADER_DEAD_LETTER_ERROR, text.slice(0, 1000).replace(/[\r\n]+/g, ' '));
      headers.set(HEADER_ORIGINAL_SUBJECT, msg.subject);
      headers.set(HEADER_ORIGINAL_SEQUENCE, String(msg.seq));
      headers.set(HEADER_CONSUMER, handler.durable);
      headers.set(HEADER_DELIVERIES, String(msg.info.deliveryCount));
      injectTraceContext(headers, trace.setSpan(context.active(), span));
      await this.nats.js.publish(this.nats.topology.deadLetterSubject(handler.durable), msg.data, {
        msgID: `${handler.durable}:${msg.seq}`,
        headers,
      });
      msg.term(text.slice(0, 200));
      this.metrics.deadLetters.inc({ consumer: handler.durable });
      this.metrics.eventsHandled.inc({ consumer: handler.durable, outcome: 'dead_letter' });
      this.logger.error({ consumer: handler.durable, seq: msg.seq, err: text }, 'event parked in dead letters');
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
