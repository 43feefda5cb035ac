import { readFileSync } from 'node:fs';
import { natsIdentityFromEnv, type NatsIdentity } from './nats/connection.js';
import { inboxPrefix } from './nats/permissions.js';

// Every setting a service reads comes from the environment, so the same build runs on a laptop,
// in CI and in Kubernetes. Defaults are the local ports from DESIGN.md.

export type ServiceName = 'intake' | 'scoring' | 'routing' | 'nurture' | 'crm-sync';

export const SERVICE_PORTS: Record<ServiceName, { grpc: number; metrics: number }> = {
  intake: { grpc: 50051, metrics: 9461 },
  scoring: { grpc: 50052, metrics: 9462 },
  routing: { grpc: 50053, metrics: 9463 },
  nurture: { grpc: 50054, metrics: 9464 },
  'crm-sync': { grpc: 50055, metrics: 9465 },
};

export interface PlatformConfig {
  service: ServiceName;
  grpcHost: string;
  grpcPort: number;
  metricsPort: number;
  natsUrl: string;
  /**
   * The service's own NATS user (NATS_NKEY_SEED_FILE or NATS_NKEY_SEED) and the CA of the server's
   * TLS certificate (NATS_TLS_CA_FILE). It publishes only its own subjects and never creates or
   * changes a stream: it waits until provisioning has made them.
   */
  nats: NatsIdentity;
  /** The service's own database: <SERVICE>_MONGO_URL, or MONGO_URL with the service's database name. */
  mongoUrl: string;
  mongoDatabase: string;
  logLevel: string;
  /** Deadline for calls to other services. */
  rpcDeadlineMs: number;
  /** This service's own identity for calls inside the mesh (LEADMESH_SERVICE_TOKEN or its _FILE). */
  serviceToken?: string;
  /** Address of another service's gRPC API, from <SERVICE>_GRPC_ADDR. */
  peer(name: ServiceName): string;
}

const envKey = (name: ServiceName) => name.toUpperCase().replace(/-/g, '_');

function int(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be a non-negative integer, got "${raw}"`);
  return value;
}

export function loadConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const key = envKey(service);
  const namespace = env.LEADMESH_NAMESPACE ? `${env.LEADMESH_NAMESPACE.replace(/-/g, '_')}_` : '';
  const mongoDatabase = env[`${key}_MONGO_DATABASE`] ?? `leadmesh_${namespace}${service.replace(/-/g, '_')}`;
  const ownUrl = env[`${key}_MONGO_URL`];
  const sharedUrl = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/';
  return {
    service,
    grpcHost: env.GRPC_HOST ?? '127.0.0.1',
    grpcPort: int(env, 'GRPC_PORT', SERVICE_PORTS[service].grpc),
    metricsPort: int(env, 'METRICS_PORT', SERVICE_PORTS[service].metrics),
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    nats: { ...natsIdentityFromEnv(env, false), inboxPrefix: inboxPrefix(service) },
    mongoUrl: ownUrl ?? sharedUrl,
    mongoDatabase,
    logLevel: env.LOG_LEVEL ?? 'info',
    rpcDeadlineMs: int(env, 'RPC_DEADLINE_MS', 5000),
    serviceToken: env.LEADMESH_SERVICE_TOKEN ?? (env.LEADMESH_SERVICE_TOKEN_FILE ? readFileSync(env.LEADMESH_SERVICE_TOKEN_FILE, 'utf8').trim() : undefined),
    peer(name) {
      return env[`${envKey(name)}_GRPC_ADDR`] ?? `127.0.0.1:${SERVICE_PORTS[name].grpc}`;
    },
  };
}
