import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../errors.js';
import { isStoreUnavailable } from '../mongo/store.js';
import { PermissionDeniedError, UnauthenticatedError } from '../auth/authenticator.js';
import { RateLimitedError } from '../auth/rate-limit.js';

export class RpcError extends Error implements Partial<ServiceError> {
  constructor(
    readonly code: status,
    readonly details: string,
    readonly metadata: Metadata = new Metadata(),
  ) {
    super(details);
  }
}

/** Maps an application error to the gRPC status a caller can act on. */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status } {
  if (err instanceof RpcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof InvalidArgumentError) {
    const metadata = new Metadata();
    for (const v of err.violations) metadata.add('field-violation', `${v.field}: ${v.description}`);
    return { code: status.INVALID_ARGUMENT, details: message, metadata };
  }
  if (err instanceof UnauthenticatedError) return { code: status.UNAUTHENTICATED, details: message };
  if (err instanceof PermissionDeniedError) return { code: status.PERMISSION_DENIED, details: message };
  if (err instanceof RateLimitedError) {
    const metadata = new Metadata();
    metadata.set('retry-after-ms', String(err.retryAfterMs));
    return { code: status.RESOURCE_EXHAUSTED, details: message, metadata };
  }
  if (err instanceof NotFoundError) return { code: status.NOT_FOUND, details: message };
  if (err instanceof AlreadyExistsError) return { code: status.ALREADY_EXISTS, details: message };
  if (err instanceof FailedPreconditionError) return { code: status.FAILED_PRECONDITION, details: message };
  if (err instanceof UnavailableError) return { code: status.UNAVAILABLE, details: message };
  if (isStoreUnavailable(err)) return { code: status.UNAVAILABLE, details: 'store unavailable, retry later' };
  if (isGrpcError(err)) return { code: err.code, details: err.details };
  return { code: status.INTERNAL, details: 'internal error' };
}

export function isGrpcError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err && 'metadata' in err;
}
