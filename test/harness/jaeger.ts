// Traces read back from the real Jaeger through its HTTP query API, for the tests that check the
// traces themselves.
export const JAEGER = 'http://127.0.0.1:16686';

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references?: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
  logs?: Array<{ fields: Array<{ key: string; value: unknown }> }>;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

export const spanTag = (span: Pick<JaegerSpan, 'tags'>, key: string) => span.tags.find((t) => t.key === key)?.value;

/** One trace by its id; undefined while Jaeger does not hold it (yet). */
export async function fetchTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${JAEGER}/api/traces/${traceId}`);
  if (!res.ok) return undefined;
  return ((await res.json()) as { data?: JaegerTrace[] }).data?.[0];
}

/** The traces of the last hour holding a span of `operation` in `service` with these tags (a lead id, say). */
export async function findTraces(service: string, operation: string, tags: Record<string, string>, limit = 20): Promise<JaegerTrace[]> {
  const query = new URLSearchParams({ service, operation, tags: JSON.stringify(tags), lookback: '1h', limit: String(limit) });
  const res = await fetch(`${JAEGER}/api/traces?${query}`);
  if (!res.ok) return [];
  return ((await res.json()) as { data?: JaegerTrace[] }).data ?? [];
}
