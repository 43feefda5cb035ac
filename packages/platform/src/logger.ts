import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Fields that must never reach a log line however a call site builds its object: addresses and
 * the secrets a request carries (bearer tokens, the web form's key, unsubscribe tokens, passwords).
 * Call sites log ids and error codes; this is the net under them.
 */
export const REDACTED_LOG_FIELDS = [
  'email',
  'recipient',
  'token',
  'key',
  'authorization',
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
].flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

// JSON lines carrying the active trace and span, so a log line leads to its trace in Jaeger.
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: [...REDACTED_LOG_FIELDS, 'headers.cookie', '*.headers.cookie'], censor: '[redacted]' },
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  }, destination as DestinationStream);
}
