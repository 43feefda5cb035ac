import { create, fromBinary, getOption, toBinary, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { DescFile } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { auth, health as healthContract } from '@leadmesh/contracts';
import { readFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { auditTarget, type AuditLog } from '../audit/audit-log.js';
import { Authenticator, type Caller } from '../auth/authenticator.js';
import { CallerRateLimiter } from '../auth/rate-limit.js';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { InvalidArgumentError } from '../errors.js';
import { toServiceError } from './status.js';
import { validate } from './validation.js';

export interface CallContext {
  metadata: grpc.Metadata;
  /** The verified caller; undefined only when authentication is off (local runs). */
  caller?: Caller;
  /** The caller's deadline, for propagating to downstream calls. */
  deadline: grpc.Deadline;
}

/** A service implementation: one async function per RPC, taking the validated request. */
export type ServiceImpl<S extends GenServiceMethods> = {
  [K in keyof S]: (request: MessageShape<S[K]['input']>, call: CallContext) => Promise<MessageInitShape<S[K]['output']>>;
};

/**
 * The gRPC server of one service: protobuf-es messages on @grpc/grpc-js, protovalidate at the edge,
 * the standard health service and server reflection.
 */
export class GrpcServer {
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly files = new Map<string, DescFile>();
  private readonly serviceNames: string[] = [];
  private port?: number;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly authenticator: Authenticator = new Authenticator({}),
    private readonly rateLimiter: CallerRateLimiter = new CallerRateLimiter(),
    /** Where privileged calls (leadmesh.auth.v1.audited) are written; every service has one (PlatformModule). */
    private readonly audit?: AuditLog,
  ) {
    this.health.addToServer(this.server);
  }

  register<S extends GenServiceMethods>(service: GenService<S>, impl: ServiceImpl<S>): void {
    const definition: grpc.UntypedServiceImplementation = {};
    const handlers: Record<string, grpc.MethodDefinition<any, any>> = {};
    for (const method of service.methods) {
      if (method.methodKind !== 'unary') throw new Error(`${service.typeName}.${method.name}: only unary RPCs are served`);
      const handler = (impl as Record<string, ServiceImpl<S>[keyof S]>)[method.localName];
      if (!handler) throw new Error(`${service.typeName}.${method.name} has no implementation`);
      handlers[method.name] = {
        path: `/${service.typeName}/${method.name}`,
        requestStream: false,
        responseStream: false,
        // Parsing happens in the handler so a malformed body is INVALID_ARGUMENT, not INTERNAL.
        requestDeserialize: (bytes: Buffer) => bytes,
        requestSerialize: (bytes: Buffer) => bytes,
        responseSerialize: (msg: MessageShape<typeof method.output>) => Buffer.from(toBinary(method.output, msg)),
        responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
        originalName: method.localName,
      };
      const label = `${service.name}/${method.name}`;
      // Who may call it is declared on the RPC in the proto.
      const requiredScope = getOption(method, auth.required_scope) || undefined;
      const rateLimited = getOption(method, auth.rate_limited);
      const audited = getOption(method, auth.audited);
      const targetSpec = getOption(method, auth.audit_target);
      if (audited && !this.audit) throw new Error(`${service.typeName}.${method.name} is audited, but this server has no audit log`);
      definition[method.name] = (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const end = this.metrics.rpcDuration.startTimer({ method: label });
        const run = async () => {
          const caller = await this.authenticator.authorize(call.metadata.get('authorization')[0]?.toString(), requiredScope);
          if (rateLimited) await this.rateLimiter.consume(caller?.subject ?? call.getPeer());
          let request: MessageShape<typeof method.input>;
          try {
            request = fromBinary(method.input, call.request);
          } catch (err) {
            throw new InvalidArgumentError(
              [{ field: method.input.typeName, description: `body is not a valid ${method.input.typeName}: ${(err as Error).message}` }],
              method.input.typeName,
            );
          }
          validate(method.input, request);
          const invoke = async () => create(method.output, (await handler(request as never, { metadata: call.metadata, caller, deadline: call.getDeadline() })) as MessageInitShape<typeof method.output>);
          if (!audited) return invoke();
          // Written before the call runs, so a privileged call that cannot be recorded does not happen.
          const record = await this.audit!.begin({
            method: `${service.typeName}/${method.name}`,
            caller: caller?.subject ?? 'anonymous',
            target: auditTarget(targetSpec, { schema: method.input, message: request }),
            traceId: trace.getActiveSpan()?.spanContext().traceId ?? '',
          });
          try {
            const response = await invoke();
            await this.audit!.finish(record, 'OK', auditTarget(targetSpec, { schema: method.input, message: request }, { schema: method.output, message: response }));
            return response;
          } catch (err) {
            await this.audit!.finish(record, grpc.status[toServiceError(err).code]);
            throw err;
          }
        };
        run().then(
          (response) => {
            end({ code: 'OK' });
            callback(null, response);
          },
          (err: unknown) => {
            const serviceError = toServiceError(err);
            end({ code: grpc.status[serviceError.code] });
            if (serviceError.code === grpc.status.INTERNAL || serviceError.code === grpc.status.UNKNOWN) {
              this.logger.error({ err, method: label }, 'rpc failed');
            }
            callback(serviceError);
          },
        );
      };
    }
    this.server.addService(handlers, definition);
    this.serviceNames.push(service.typeName);
    this.collectFiles(service.file);
  }

  /** Reports SERVING only while the service can do its job (store and broker reachable). */
  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.metrics.serving.set(serving ? 1 : 0);
    this.health.setStatus('', status);
    for (const name of this.serviceNames) this.health.setStatus(name, status);
  }

  async listen(host: string, port: number): Promise<number> {
    // Reflection serves the descriptors protoc-gen-es embedded, health's included, so stock clients
    // such as grpcurl list and call every RPC without .proto files.
    this.collectFiles(healthContract.file_grpc_health_v1_health);
    // Only the services this server serves: its files import other services' messages (intake's
    // journey), and reflection would otherwise list those services here too.
    const reflection = new ReflectionService({ leadmesh: { fileDescriptorProtos: this.fileDescriptorProtos() } } as never, {
      services: [...this.serviceNames, 'grpc.health.v1.Health'],
    });
    reflection.addToServer(this.server);
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, serverCredentials(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    this.logger.info({ port: this.port, services: this.serviceNames }, 'grpc listening');
    return this.port;
  }

  /** Lets in-flight calls finish, then closes. */
  async close(graceMs = 5000): Promise<void> {
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private collectFiles(file: DescFile): void {
    if (this.files.has(file.name)) return;
    this.files.set(file.name, file);
    for (const dep of file.dependencies) this.collectFiles(dep);
  }

  private fileDescriptorProtos(): Buffer[] {
    return [...this.files.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  }
}

export type { DescService };

/**
 * TLS when GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE are set; mutual TLS (client certificates
 * required) when GRPC_TLS_CLIENT_CA_FILE is set too. Plaintext otherwise (local runs).
 */
export function serverCredentials(env: NodeJS.ProcessEnv = process.env): grpc.ServerCredentials {
  if (!env.GRPC_TLS_CERT_FILE || !env.GRPC_TLS_KEY_FILE) return grpc.ServerCredentials.createInsecure();
  const clientCa = env.GRPC_TLS_CLIENT_CA_FILE ? readFileSync(env.GRPC_TLS_CLIENT_CA_FILE) : null;
  return grpc.ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: readFileSync(env.GRPC_TLS_CERT_FILE), private_key: readFileSync(env.GRPC_TLS_KEY_FILE) }],
    clientCa !== null,
  );
}
