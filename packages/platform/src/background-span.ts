import { SpanKind, SpanStatusCode, trace, type Attributes, type Link } from '@opentelemetry/api';

const tracer = trace.getTracer('leadmesh-platform');

/**
 * Work that no request or event started (an SLA re-route found by a sweep, a lead rescored by a
 * rule-set job) as the root of its own trace: what it stores and publishes, and what the other
 * services do with those events, is then one trace that the lead id attribute finds in Jaeger.
 * `links` names what set it off when something did (a webhook's request: its span stays the
 * request's, the work's trace is the lead's).
 */
export async function inBackgroundSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>, links: Link[] = []): Promise<T> {
  return tracer.startActiveSpan(name, { root: true, kind: SpanKind.INTERNAL, attributes, links }, async (span) => {
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

/** A link to the span active now (the request that set background work off), none outside a span. */
export function linkToActiveSpan(): Link[] {
  const context = trace.getActiveSpan()?.spanContext();
  return context ? [{ context }] : [];
}
