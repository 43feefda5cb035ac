// One HTTP exchange over global fetch (undici, which OpenTelemetry traces), read to the end so the
// adapters classify status and body in one place. Network failures become CrmUnavailableError.
import { CrmUnavailableError, type CrmName } from './crm-port.js';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, the text otherwise, undefined when empty. */
  body: unknown;
}

export type FetchLike = typeof fetch;

export async function exchange(
  crm: CrmName,
  fetchImpl: FetchLike,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  signal: AbortSignal,
): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await fetchImpl(url, { ...init, signal });
  } catch (err) {
    if (signal.aborted) throw err; // the timeout policy reports this one
    throw new CrmUnavailableError(crm, `${crm} is unreachable: ${(err as Error).message}`, { code: 'NETWORK', cause: err });
  }
  const text = await response.text();
  let body: unknown = text === '' ? undefined : text;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      // A proxy's HTML error page under a JSON content type: keep the text for the error message.
    }
  }
  return { status: response.status, headers: response.headers, body };
}

/** Short, secret-free description of an unexpected answer for error messages. */
export function describeBody(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
