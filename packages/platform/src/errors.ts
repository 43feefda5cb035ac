// Errors the application raises, independent of the transport. The gRPC edge maps them to status
// codes; the HTTP edge to HTTP statuses. Domain code may throw these without importing gRPC.

export interface FieldViolation {
  /** Path of the offending field, e.g. "contact.email". */
  field: string;
  description: string;
}

export class InvalidArgumentError extends Error {
  constructor(
    readonly violations: FieldViolation[],
    subject = 'request',
  ) {
    super(`invalid ${subject}: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`);
    this.name = 'InvalidArgumentError';
  }
}

export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'AlreadyExistsError';
  }
}

export class FailedPreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailedPreconditionError';
  }
}

/** A dependency (store, broker, another service) cannot be reached right now; the caller may retry. */
export class UnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}
