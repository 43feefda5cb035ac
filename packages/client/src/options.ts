// What a caller can set, and where each setting comes from when it is not set in code: the
// LEADMESH_* environment variables the CLI, the examples and other teams' services share.
export const SERVICE_NAMES = ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The local ports of DESIGN.md, so a client on a developer machine needs no settings at all. */
export const DEFAULT_ADDRESSES: Record<ServiceName, string> = {
  intake: '127.0.0.1:50051',
  scoring: '127.0.0.1:50052',
  routing: '127.0.0.1:50053',
  nurture: '127.0.0.1:50054',
  'crm-sync': '127.0.0.1:50055',
};

/** A bearer token, or a function that returns a fresh one (e.g. a JWT refreshed before expiry). */
export type TokenSource = string | (() => string | Promise<string>);

export interface TlsOptions {
  /** PEM root certificate(s) to trust instead of the system roots. */
  rootCa?: Buffer | string;
  /** PEM client certificate and key, for mutual TLS. Both or neither. */
  clientCert?: Buffer | string;
  clientKey?: Buffer | string;
  /** Name to check the server certificate against, when it differs from the address's host. */
  serverName?: string;
}

export interface RetryOptions {
  /** Attempts in total, first try included. 1 turns retries off. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 5_000 };
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface LeadmeshClientOptions {
  addresses?: Partial<Record<ServiceName, string>>;
  token?: TokenSource;
  /** true for TLS with the system roots; an object for a private CA or mutual TLS. */
  tls?: boolean | TlsOptions;
  /** Deadline of each attempt of a call that does not set its own. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

const envName = (service: ServiceName) => `LEADMESH_${service.toUpperCase().replace(/-/g, '_')}_ADDR`;

/**
 * Options from the environment: LEADMESH_TOKEN, LEADMESH_<SERVICE>_ADDR (e.g.
 * LEADMESH_CRM_SYNC_ADDR), LEADMESH_TIMEOUT_MS, and for TLS LEADMESH_TLS=1 or the PEM contents'
 * file paths LEADMESH_TLS_CA, LEADMESH_TLS_CERT, LEADMESH_TLS_KEY, LEADMESH_TLS_SERVER_NAME.
 * `readFile` is injected so this stays free of I/O in tests.
 */
export function optionsFromEnv(env: Record<string, string | undefined>, readFile: (path: string) => Buffer): LeadmeshClientOptions {
  const options: LeadmeshClientOptions = {};
  const addresses: Partial<Record<ServiceName, string>> = {};
  for (const service of SERVICE_NAMES) {
    const value = env[envName(service)];
    if (value) addresses[service] = value;
  }
  options.addresses = addresses;
  if (env.LEADMESH_TOKEN) options.token = env.LEADMESH_TOKEN;
  if (env.LEADMESH_TIMEOUT_MS) {
    const timeoutMs = Number(env.LEADMESH_TIMEOUT_MS);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`LEADMESH_TIMEOUT_MS must be a positive whole number of milliseconds, got "${env.LEADMESH_TIMEOUT_MS}"`);
    options.timeoutMs = timeoutMs;
  }
  const ca = env.LEADMESH_TLS_CA;
  const cert = env.LEADMESH_TLS_CERT;
  const key = env.LEADMESH_TLS_KEY;
  if (ca || cert || key || env.LEADMESH_TLS_SERVER_NAME) {
    options.tls = {
      ...(ca ? { rootCa: readFile(ca) } : {}),
      ...(cert ? { clientCert: readFile(cert) } : {}),
      ...(key ? { clientKey: readFile(key) } : {}),
      ...(env.LEADMESH_TLS_SERVER_NAME ? { serverName: env.LEADMESH_TLS_SERVER_NAME } : {}),
    };
  } else if (env.LEADMESH_TLS === '1' || env.LEADMESH_TLS === 'true') {
    options.tls = true;
  }
  return options;
}

export function addressEnvName(service: ServiceName): string {
  return envName(service);
}
