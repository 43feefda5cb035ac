import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ConsoleSpanExporter } from '@opentelemetry/sdk-trace-node';
import { mongoStatementShape, traceExporterFromEnv } from './start.js';

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

describe('mongoStatementShape', () => {
  it('keeps the command, the collection and the filtered fields and operators, and no value', () => {
    const shape = mongoStatementShape({ find: 'scheduled_steps', filter: { leadId: 'lead-1', status: 'DUE', dueAt: { $lte: new Date() } }, limit: 50, lsid: { id: 'x' } });
    expect(JSON.parse(shape)).toEqual({ find: 'scheduled_steps', filter: { leadId: '?', status: '?', dueAt: { $lte: '?' } } });
  });

  it('names the fields of each update and delete, and counts the documents written rather than copying them', () => {
    const payload = Buffer.from('ada@example.com');
    expect(JSON.parse(mongoStatementShape({ update: 'leads', updates: [{ q: { _id: 'lead-1', revision: 3 }, u: { $set: { email: 'ada@example.com' } } }] }))).toEqual({
      update: 'leads',
      updates: [{ q: { _id: '?', revision: '?' } }],
    });
    expect(JSON.parse(mongoStatementShape({ insert: 'leads', documents: [{ _id: 'a', payload }, { _id: 'b', payload }] }))).toEqual({ insert: 'leads', documents: 2 });
    expect(mongoStatementShape({ delete: 'claims', deletes: [{ q: { _id: { $gte: 'a/', $lt: 'a0' } }, limit: 0 }] })).not.toContain('a/');
  });
});
