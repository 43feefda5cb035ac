import { errors as natsErrors } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import { UnavailableError } from './errors.js';

/**
 * Why an event could not be applied, which decides what the consumer does with it:
 * - `infrastructure`: the service's own store or its broker cannot be reached. Nothing is wrong
 *   with the event; it is kept in hand and tried again once they answer, however long that takes.
 * - `merit`: the event itself fails (it does not decode, is invalid, a rule throws). It is retried
 *   within a budget, then parked in the dead-letter stream with its error for a replay.
 */
export type FailureKind = 'infrastructure' | 'merit';

/** An event that cannot succeed however often it is retried (it does not decode, or is invalid). */
export class PoisonEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonEventError';
  }
}

// By name, not by class: mongoose and the services may each load their own copy of the driver,
// and `instanceof` fails across copies. Only errors that say the server could not be reached or did
// not answer in time; a server that answered with an error (duplicate key, bad update) is a merit.
const STORE_UNREACHABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
]);

// Codes a MongoDB server answers while it cannot serve (shutting down, no primary, a failover):
// the driver's own retryable set. Checked on Mongo errors only, since gRPC errors carry small
// numeric codes too.
const STORE_NOT_SERVING_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

const STORE_NOT_SERVING_LABELS = ['RetryableWriteError', 'ResetPool', 'SystemOverloadedError'];

/** True when a store error means "cannot reach the database right now" rather than a bad operation. */
export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof Error && storeUnreachable(err);
}

function storeUnreachable(err: Error): boolean {
  if (STORE_UNREACHABLE.has(err.name)) return true;
  // mongoose before its first connection: refused at once with bufferCommands off, or after
  // waiting with it on.
  if (err.name === 'MongooseError' && /before initial connection is complete|buffering timed out/.test(err.message)) return true;
  if (!err.name.startsWith('Mongo')) return false;
  const { code, errorLabels } = err as Error & { code?: unknown; errorLabels?: unknown };
  if (typeof code === 'number' && STORE_NOT_SERVING_CODES.has(code)) return true;
  return Array.isArray(errorLabels) && errorLabels.some((label) => STORE_NOT_SERVING_LABELS.includes(label as string));
}

function brokerUnreachable(err: Error): boolean {
  if (
    err instanceof natsErrors.ConnectionError ||
    err instanceof natsErrors.ClosedConnectionError ||
    err instanceof natsErrors.DrainingConnectionError ||
    err instanceof natsErrors.TimeoutError ||
    // Wrapped by the JetStream client as JetStreamNotEnabled, which the cause walk looks through.
    err instanceof natsErrors.NoRespondersError
  ) {
    return true;
  }
  // 503: JetStream answers but has no leader or no responder for the stream yet (a restart, an election).
  return err instanceof JetStreamApiError && err.status === 503;
}

/**
 * Tells an infrastructure failure (the service's store or broker unreachable) from an event failing
 * on its own merits. Wrapped errors are looked through (`cause`), so a handler that adds context to
 * a store error keeps it an infrastructure failure; an explicit PoisonEventError is always a merit.
 */
export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof PoisonEventError) return 'merit';
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    // The platform's own "cannot reach the store or broker right now" (NatsClient when
    // disconnected, a registry whose data the store has not given yet).
    if (current instanceof UnavailableError) return 'infrastructure';
    if (storeUnreachable(current) || brokerUnreachable(current)) return 'infrastructure';
    current = current.cause;
  }
  return 'merit';
}

export const isInfrastructureFailure = (err: unknown): boolean => classifyFailure(err) === 'infrastructure';

/**
 * An error's text as logs, spans and event headers may carry it: an error that knows its message
 * holds outside data (a CRM's answer echoing the values it refused) gives a `safeMessage` of codes
 * instead; any other error is ours and says what went wrong in our words.
 */
export function safeErrorText(err: unknown): string {
  const safe = (err as { safeMessage?: unknown } | null)?.safeMessage;
  if (typeof safe === 'string') return safe;
  return err instanceof Error ? err.message : String(err);
}
