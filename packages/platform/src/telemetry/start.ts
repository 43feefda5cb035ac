// Loaded with `node --import` before the service's own code, so every library is instrumented
// from its first import. Configured by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED, ...); the defaults export OTLP over HTTP to the local Jaeger.
import { createRequire } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

let sdk: NodeSDK | undefined;

export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  sdk = new NodeSDK({
    instrumentations: [
      new GrpcInstrumentation({
        // Probes and reflection would drown the lead's spans.
        ignoreGrpcMethods: ['Check', 'Watch', 'ServerReflectionInfo'],
      }),
      new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => req.url === '/metrics' || req.url === '/healthz',
      }),
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  // The libraries we trace are CommonJS. Requiring them once here, with the instrumentations on,
  // patches their exports before the service's ESM imports read them, which spares an ESM loader
  // hook (import-in-the-middle runs on its own thread and costs about 70 MB per process).
  const require = createRequire(import.meta.url);
  for (const library of ['@grpc/grpc-js', 'mongodb']) require(library);
}

/** Flushes spans still in the batch before the process exits. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
