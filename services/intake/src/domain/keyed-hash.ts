import { createHmac } from 'node:crypto';

/**
 * The keyed hash (HMAC-SHA256, keyed with ERASURE_HASH_KEY) by which intake names personal data it
 * must keep without holding it: an erased address, and the client address or recipient a rate limit
 * counts. Unkeyed, a hash of an IPv4 address or a known email is reversed by trying them all.
 */
export function keyedHash(key: string, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}
