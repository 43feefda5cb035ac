import { create, fromBinary, toBinary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

export interface CallOptions {
  /** Milliseconds from now; every call has one. */
  timeoutMs?: number;
  metadata?: grpc.Metadata;
}

/** A typed, promise-based client: one function per unary RPC. */
export type ServiceClient<S extends GenServiceMethods> = {
  [K in keyof S]: (request: MessageInitShape<S[K]['input']>, options?: CallOptions) => Promise<MessageShape<S[K]['output']>>;
} & { close(): void };

export interface ClientOptions {
  /** Default deadline for calls without their own. */
  timeoutMs?: number;
  /** Bearer token sent on every call: the caller's identity (a team, or this service in the mesh). */
  token?: string;
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
}

export function createClient<S extends GenServiceMethods>(
  service: GenService<S>,
  address: string,
  options: ClientOptions = {},
): ServiceClient<S> {
  const definition: Record<string, grpc.MethodDefinition<any, any>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (msg: MessageShape<typeof method.input>) => Buffer.from(toBinary(method.input, msg)),
      requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
      responseSerialize: (msg: MessageShape<typeof method.output>) => Buffer.from(toBinary(method.output, msg)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
  }
  // makeGenericClientConstructor is what the OpenTelemetry gRPC instrumentation wraps.
  const Ctor = grpc.makeGenericClientConstructor(definition, service.typeName);
  const raw = new Ctor(address, options.credentials ?? channelCredentials(), {
    'grpc.keepalive_time_ms': 30_000,
    ...options.channelOptions,
  }) as unknown as Record<string, Function> & grpc.Client;
  const defaultTimeout = options.timeoutMs ?? 5000;
  const client: Record<string, unknown> = { close: () => raw.close() };
  for (const method of service.methods) {
    client[method.localName] = (request: MessageInitShape<typeof method.input>, call: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + (call.timeoutMs ?? defaultTimeout));
        raw[method.localName]!.call(
          raw,
          create(method.input, request),
          withToken(call.metadata ?? new grpc.Metadata(), options.token),
          { deadline },
          (err: grpc.ServiceError | null, response: unknown) => (err ? reject(err) : resolve(response)),
        );
      });
  }
  return client as ServiceClient<S>;
}

function withToken(metadata: grpc.Metadata, token: string | undefined): grpc.Metadata {
  if (token && metadata.get('authorization').length === 0) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** TLS to the mesh when GRPC_TLS_CA_FILE is set (with a client certificate for mutual TLS). */
export function channelCredentials(env: NodeJS.ProcessEnv = process.env): grpc.ChannelCredentials {
  if (!env.GRPC_TLS_CA_FILE) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    readFileSync(env.GRPC_TLS_CA_FILE),
    env.GRPC_TLS_CLIENT_KEY_FILE ? readFileSync(env.GRPC_TLS_CLIENT_KEY_FILE) : null,
    env.GRPC_TLS_CLIENT_CERT_FILE ? readFileSync(env.GRPC_TLS_CLIENT_CERT_FILE) : null,
  );
}
