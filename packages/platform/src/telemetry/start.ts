// Loaded with `node --import` before the service's own code, so every library is instrumented
// from its first import. Configured by the standard OTEL_* variables (OTEL_SDK_DISABLED,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_SAMPLER, OTEL_BSP_*); the defaults export OTLP over
// HTTP to the local Jaeger.
//
// The tracer provider is put together from its parts rather than with @opentelemetry/sdk-node:
// that package loads every exporter it could be configured for (logs, metrics, Prometheus, Zipkin,
// three OTLP transports), about 65 MB of resident memory per process, and leadmesh only exports
// traces (metrics are Prometheus, logs are JSON lines).
import { createRequire } from 'node:module';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, hostDetector, processDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';

const require = createRequire(import.meta.url);

/**
 * Query parameters whose values never reach a span: ours (the web form's token travels as ?key=,
 * the unsubscribe link's as ?token=) and the instrumentation's own list of signed-URL parameters.
 */
export const SECRET_QUERY_PARAMS = ['key', 'token', 'access_token', 'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'];
let provider: NodeTracerProvider | undefined;

/** The exporter OTEL_TRACES_EXPORTER and the OTLP protocol settings ask for; undefined for "none". */
export function traceExporterFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter | undefined {
  const exporter = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',')[0]!.trim();
  if (exporter === 'none') return undefined;
  if (exporter === 'console') return new ConsoleSpanExporter();
  if (exporter !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER=${exporter} is not supported (otlp, console or none)`);
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  // Only the transport asked for is loaded.
  if (protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter();
  }
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter();
  }
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported for traces (http/protobuf or grpc)`);
}

export function startTelemetry(serviceName: string): void {
  if (provider || /^true$/i.test(process.env.OTEL_SDK_DISABLED ?? '')) return;
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  const exporter = traceExporterFromEnv();
  // The sampler (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG) and the batch settings (OTEL_BSP_*)
  // are read from the environment by the provider and the processor themselves.
  provider = new NodeTracerProvider({
    resource: detectResources({ detectors: [envDetector, processDetector, hostDetector] }),
    spanProcessors: exporter ? [new BatchSpanProcessor(exporter)] : [],
  });
  // W3C trace context and baggage, and AsyncLocalStorage for the active span.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new GrpcInstrumentation({
        // Probes and reflection would drown the lead's spans.
        ignoreGrpcMethods: ['Check', 'Watch', 'ServerReflectionInfo'],
      }),
      new MongoDBInstrumentation({ dbStatementSerializer: mongoStatementShape }),
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => req.url === '/metrics' || req.url === '/healthz',
        // Secrets that travel in a URL (the web form's ?key= token, the unsubscribe link's
        // ?token=) are replaced in url.query and url.full, in and out.
        redactedQueryParamsServer: SECRET_QUERY_PARAMS,
        redactedQueryParams: SECRET_QUERY_PARAMS,
        // A visitor's address is personal data: the instrumentation's client.address (from
        // X-Forwarded-For or the socket) and network.peer.address are left off the span.
        startIncomingSpanHook: () => ({ 'client.address': undefined, 'network.peer.address': undefined, 'network.peer.port': undefined }),
      }),
      new UndiciInstrumentation(),
    ],
  });
  // The libraries we trace are CommonJS. Requiring them once here, with the instrumentations on,
  // patches their exports before the service's ESM imports read them, which spares an ESM loader
  // hook (import-in-the-middle runs on its own thread and costs about 70 MB per process).
  for (const library of ['@grpc/grpc-js', 'mongodb']) require(library);
}

/**
 * What a span says of a MongoDB command: the command, its collection and the fields it filters on,
 * never a value. The instrumentation's default walks the whole command, the documents and the
 * outbox payloads written included, and cost a few percent of a service's CPU under load.
 */
export function mongoStatementShape(command: Record<string, unknown>): string {
  const [name] = Object.keys(command);
  const shape: Record<string, unknown> = name ? { [name]: command[name] } : {};
  for (const key of ['filter', 'query']) if (isObject(command[key])) shape[key] = fieldsOf(command[key]);
  for (const key of ['updates', 'deletes']) {
    const list = command[key];
    if (Array.isArray(list)) shape[key] = list.map((op: unknown) => (isObject(op) && isObject(op.q) ? { q: fieldsOf(op.q) } : '?'));
  }
  if (Array.isArray(command.documents)) shape.documents = command.documents.length;
  return JSON.stringify(shape);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A filter's fields and operators, every value replaced by "?". */
function fieldsOf(filter: Record<string, unknown>, depth = 0): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(filter).map(([field, value]) => [field, depth < 2 && isObject(value) && !(value instanceof Date) && Object.keys(value).some((k) => k.startsWith('$')) ? fieldsOf(value, depth + 1) : '?']),
  );
}

/** Flushes spans still in the batch before the process exits. */
export async function stopTelemetry(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
  provider = undefined;
}
