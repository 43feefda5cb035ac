import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('leadmesh-platform');

/**
 * Work that no request or event started (an SLA re-route found by a sweep, a lead rescored by a
 * rule-set job) as the root of its own trace: what it stores and publishes, and what the other
 * services do with those events, is then one trace that the lead id attribute finds in Jaeger.
 */
export async function inBackgroundSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { root: true, kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await work();
    } catch (err) {
      // The error's kind only: a message may quote a stored value.
      span.setAttribute('error.type', (err as Error).name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
