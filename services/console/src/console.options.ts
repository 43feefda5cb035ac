import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const SERVICES = ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] as const;
export type ServiceName = (typeof SERVICES)[number];
const DEFAULT_PORTS: Record<ServiceName, number> = { intake: 50051, scoring: 50052, routing: 50053, nurture: 50054, 'crm-sync': 50055 };

/** The console's settings, all from the environment (Secrets mounted as files where they are secret). */
export interface ConsoleOptions {
  host: string;
  port: number;
  /** Where people reach the console: the OIDC redirect URI is built from it; https turns on Secure cookies. */
  publicUrl: string;
  oidcIssuer: string;
  oidcClientId: string;
  oidcClientSecret: string;
  /** The API the access token is for (RFC 8707 resource indicator). */
  oidcResource: string;
  /** Every scope the console can use; the provider grants the part the person's groups allow. */
  oidcScopes: string[];
  /** Encrypts the session cookie; from a Secret in a cluster. */
  sessionSecret: string;
  grpcAddresses: Record<ServiceName, string>;
  jaegerUrl: string;
  prometheusUrl: string;
  /** Path of the built single-page app. */
  publicDir: string;
}

/** The services' scopes the console's pages use (the provider must know them as the resource's scopes). */
export const CONSOLE_SCOPES = [
  'leads:read',
  'scoring:preview',
  'routing:preview',
  'nurture:preview',
  'rules:admin',
  'owners:admin',
  'crm:replay',
  'events:replay',
  'nurture:unsubscribe',
  'privacy:erase',
];

function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  return file ? readFileSync(file, 'utf8').trim() : env[name];
}

export function loadConsoleOptions(env: NodeJS.ProcessEnv = process.env, publicDir: string): ConsoleOptions {
  const port = Number(env.CONSOLE_PORT ?? 8088);
  const host = env.CONSOLE_HOST ?? '127.0.0.1';
  const grpcAddresses = Object.fromEntries(
    SERVICES.map((s) => [s, env[`${s.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`] ?? `127.0.0.1:${DEFAULT_PORTS[s]}`]),
  ) as Record<ServiceName, string>;
  const sessionSecret = secret(env, 'CONSOLE_SESSION_SECRET');
  if (!sessionSecret && env.NODE_ENV === 'production') throw new Error('CONSOLE_SESSION_SECRET (or _FILE) is required in production');
  return {
    host,
    port,
    publicUrl: (env.CONSOLE_PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    oidcIssuer: (env.OIDC_ISSUER ?? 'http://127.0.0.1:5556').replace(/\/$/, ''),
    oidcClientId: env.OIDC_CLIENT_ID ?? 'leadmesh-console',
    oidcClientSecret: secret(env, 'OIDC_CLIENT_SECRET') ?? 'console-local-secret',
    oidcResource: env.OIDC_RESOURCE ?? 'urn:leadmesh:api',
    oidcScopes: (env.OIDC_SCOPES?.split(/[\s,]+/) ?? CONSOLE_SCOPES).filter(Boolean),
    // Locally a fresh secret per start only signs people out on a restart.
    sessionSecret: sessionSecret ?? randomBytes(32).toString('hex'),
    grpcAddresses,
    jaegerUrl: (env.JAEGER_UI_URL ?? 'http://127.0.0.1:16686').replace(/\/$/, ''),
    prometheusUrl: (env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090').replace(/\/$/, ''),
    publicDir,
  };
}
