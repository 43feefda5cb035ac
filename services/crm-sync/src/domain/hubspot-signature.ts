// HubSpot's v3 request signature on webhook calls (X-HubSpot-Signature-v3), from HubSpot's
// "Validating requests" page: base64 of HMAC-SHA256, keyed by the app's client secret, over
// method + URI + body + X-HubSpot-Request-Timestamp (milliseconds), the URI with HubSpot's listed
// percent-escapes decoded; requests older than five minutes are refused. Pure: no I/O.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60_000;

/** The escapes HubSpot decodes in the URI before signing. */
const DECODED: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export function hubspotSignatureV3(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  const decodedUri = uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()] ?? m);
  return createHmac('sha256', secret).update(`${method.toUpperCase()}${decodedUri}${body}${timestamp}`, 'utf8').digest('base64');
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

export interface SignedRequest {
  method: string;
  /** The full URL HubSpot called, as registered in the app (scheme, host, path and query). */
  uri: string;
  /** The raw body as received. */
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
}

/** Whether the request came from HubSpot, unaltered, within the last five minutes (a replay is older). */
export function verifyHubspotSignatureV3(secret: string, request: SignedRequest, now: Date, maxAgeMs = HUBSPOT_SIGNATURE_MAX_AGE_MS): SignatureVerdict {
  const { signature, timestamp } = request;
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return { ok: false, reason: 'missing' };
  const age = now.getTime() - Number(timestamp);
  // A timestamp from the future beyond the same window is as suspect as an old one.
  if (age > maxAgeMs || age < -maxAgeMs) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hubspotSignatureV3(secret, request.method, request.uri, request.body, timestamp));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
