import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ConsoleSpanExporter } from '@opentelemetry/sdk-trace-node';
import { traceExporterFromEnv } from './start.js';

describe('traceExporterFromEnv', () => {
  it('exports OTLP over HTTP/protobuf by default, as the OpenTelemetry specification says', async () => {
    const exporter = traceExporterFromEnv({});
    expect(exporter).toBeInstanceOf(OtlpProtoExporter);
    await exporter?.shutdown();
  });

  it('honours the OTLP protocol, the traces-specific setting first', async () => {
    const grpc = traceExporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc).toBeInstanceOf(OtlpGrpcExporter);
    const proto = traceExporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' });
    expect(proto).toBeInstanceOf(OtlpProtoExporter);
    await Promise.all([grpc?.shutdown(), proto?.shutdown()]);
  });

  it('exports nothing for "none" and to the console for "console"', () => {
    expect(traceExporterFromEnv({ OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(traceExporterFromEnv({ OTEL_TRACES_EXPORTER: 'console' })).toBeInstanceOf(ConsoleSpanExporter);
  });

  it('names the variable when a setting is not supported', () => {
    expect(() => traceExporterFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER=zipkin/);
    expect(() => traceExporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);
  });
});
