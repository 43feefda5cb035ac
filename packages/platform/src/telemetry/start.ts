// Loaded with `node --import` before the service's own code, so every library is instrumented
// from its first import. Configured by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED, ...); the defaults export OTLP over HTTP to the local Jaeger.
import { register } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

let sdk: NodeSDK | undefined;

export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  // ESM imports go through import-in-the-middle; CommonJS ones through require-in-the-middle.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
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
}

/** Flushes spans still in the batch before the process exits. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
