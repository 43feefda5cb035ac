// One typed, promise-based client per service, derived from the protobuf-es service descriptor:
// path `/<typeName>/<Method>`, protobuf-es binary (de)serialisation, a deadline on every attempt,
// the caller's token on every call, and retries for UNAVAILABLE and RESOURCE_EXHAUSTED.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { authMetadata } from './credentials.js';
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type RetryOptions, type TokenSource } from './options.js';
import { retryPolicy } from './retry.js';

export interface CallOptions {
  /** Deadline of each attempt, in milliseconds from its start. */
  timeoutMs?: number;
  metadata?: grpc.Metadata;
  /** Cancels the call and any retry still waiting. */
  signal?: AbortSignal;
}

export type ServiceClient<S extends GenServiceMethods> = {
  [K in keyof S]: (request: MessageInitShape<S[K]['input']>, options?: CallOptions) => Promise<MessageShape<S[K]['output']>>;
} & { close(): void };

export interface ServiceClientOptions {
  credentials: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  token?: TokenSource;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Fills fields that make a request safe to retry, e.g. an idempotency key, once per call. */
  prepare?: Partial<Record<string, (request: Record<string, unknown>) => void>>;
}

type UnaryMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, value?: unknown) => void) => grpc.ClientUnaryCall;

/** The grpc-js definition of a protobuf-es service: what a test double or a server registers. */
export function grpcServiceDefinition(service: GenService<GenServiceMethods>): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const input: DescMessage = method.input;
    const output: DescMessage = method.output;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (msg) => Buffer.from(toBinary(input, msg as MessageShape<DescMessage>)),
      requestDeserialize: (bytes) => fromBinary(input, bytes),
      responseSerialize: (msg) => Buffer.from(toBinary(output, msg as MessageShape<DescMessage>)),
      responseDeserialize: (bytes) => fromBinary(output, bytes),
      originalName: method.localName,
    };
  }
  return definition;
}

export function createServiceClient<S extends GenServiceMethods>(service: GenService<S>, address: string, options: ServiceClientOptions): ServiceClient<S> {
  // makeGenericClientConstructor is what the OpenTelemetry gRPC instrumentation wraps, so callers
  // that run the OpenTelemetry SDK get client spans and trace propagation for free.
  const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  const raw = new Ctor(address, options.credentials, options.channelOptions ?? {}) as grpc.Client & Record<string, UnaryMethod>;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const policy = retryPolicy({ ...DEFAULT_RETRY, ...options.retry });
  const client: Record<string, unknown> = { close: () => raw.close() };

  for (const method of service.methods) {
    const unary = raw[method.localName]!.bind(raw);
    const prepare = options.prepare?.[method.localName];
    client[method.localName] = async (init: MessageInitShape<DescMessage>, call: CallOptions = {}) => {
      const request = create(method.input, init);
      prepare?.(request as unknown as Record<string, unknown>);
      const metadata = await authMetadata(options.token, call.metadata);
      const attempts = policy.execute(
        ({ signal }) =>
          new Promise((resolve, reject) => {
            const deadline = new Date(Date.now() + (call.timeoutMs ?? timeoutMs));
            const pending = unary(request, metadata, { deadline }, (err, value) => (err ? reject(err) : resolve(value)));
            signal.addEventListener('abort', () => pending.cancel(), { once: true });
          }),
        call.signal,
      );
      return call.signal ? untilAborted(attempts, call.signal) : attempts;
    };
  }
  return client as ServiceClient<S>;
}

/**
 * cockatiel notices an abort only after its backoff delay has run out, which may be a server's long
 * retry-after; the caller hears of the abort at once instead.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('the call was aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
