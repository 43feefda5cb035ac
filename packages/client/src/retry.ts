// Which failures are worth another attempt, and how long to wait before it. The retry loop itself
// is cockatiel's.
import * as grpc from '@grpc/grpc-js';
import { DelegateBackoff, handleWhen, retry, type IRetryBackoffContext, type RetryPolicy } from 'cockatiel';
import type { RetryOptions } from './options.js';

const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED]);

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

export const isRetryable = (err: unknown): boolean => isServiceError(err) && RETRYABLE.has(err.code);

/** The server's own word on when to come back (rate limiting sends `retry-after-ms`). */
export function serverRetryDelayMs(err: unknown): number | undefined {
  if (!isServiceError(err) || !err.metadata) return undefined;
  const [value] = err.metadata.get('retry-after-ms');
  const ms = Number(typeof value === 'string' ? value : value?.toString());
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** Exponential backoff with full jitter, unless the server named a delay. */
export function retryDelayMs(err: unknown, attempt: number, options: RetryOptions, random: () => number = Math.random): number {
  const told = serverRetryDelayMs(err);
  if (told !== undefined) return told;
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling * random());
}

export function retryPolicy(options: RetryOptions): RetryPolicy {
  return retry(handleWhen(isRetryable), {
    maxAttempts: Math.max(0, options.maxAttempts - 1),
    backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) =>
      retryDelayMs('error' in ctx.result ? ctx.result.error : undefined, ctx.attempt, options),
    ),
  });
}
