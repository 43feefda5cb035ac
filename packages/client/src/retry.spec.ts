import * as grpc from '@grpc/grpc-js';
import { isRetryable, retryDelayMs, serverRetryDelayMs } from './retry.js';

const failure = (code: grpc.status, trailers: Record<string, string> = {}) => {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(trailers)) metadata.set(k, v);
  return Object.assign(new Error('x'), { code, details: 'x', metadata });
};
const options = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1_000 };

describe('retry decisions', () => {
  it('retries only UNAVAILABLE and RESOURCE_EXHAUSTED', () => {
    const retried = Object.values(grpc.status).filter((c): c is grpc.status => typeof c === 'number' && isRetryable(failure(c)));
    expect(retried.sort()).toEqual([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE].sort());
    expect(isRetryable(new Error('not a gRPC error'))).toBe(false);
  });

  it('uses the server’s retry-after-ms, and ignores one that is not a number', () => {
    expect(serverRetryDelayMs(failure(grpc.status.RESOURCE_EXHAUSTED, { 'retry-after-ms': '2500' }))).toBe(2500);
    expect(serverRetryDelayMs(failure(grpc.status.RESOURCE_EXHAUSTED, { 'retry-after-ms': 'soon' }))).toBeUndefined();
    expect(retryDelayMs(failure(grpc.status.RESOURCE_EXHAUSTED, { 'retry-after-ms': '2500' }), 1, options, () => 0.5)).toBe(2500);
  });

  it('backs off exponentially with full jitter up to the cap', () => {
    const err = failure(grpc.status.UNAVAILABLE);
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(err, attempt, options, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelayMs(err, 3, options, () => 0.25)).toBe(100);
  });
});
