// Starts the five services as their containers run them (same entry point, same variables), for
// the end-to-end tests and for `npm run suite`. Runs under jest and under plain Node 24.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_DIR, natsUserEnv, provisionStreams } from './nats.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The NATS the stack tests use: the shared local one, unless LEADMESH_TEST_NATS_URL names another
 * (a branch that changes the backbone's permissions runs the tests on a server with its own
 * deploy/local configuration before the shared one is reconfigured).
 */
export const TEST_NATS_URL = process.env.LEADMESH_TEST_NATS_URL || 'nats://127.0.0.1:4222';

export const SERVICES = ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'] as const;
export type Service = (typeof SERVICES)[number];

export const GRPC_PORTS: Record<Service, number> = { intake: 50051, scoring: 50052, routing: 50053, nurture: 50054, 'crm-sync': 50055 };

export interface StackOptions {
  /** Extra variables for every service, e.g. a CRM simulator URL. */
  env?: Record<string, string>;
  /** Folder for each service's log file. */
  logDir?: string;
  /**
   * Own streams, subjects and databases (LEADMESH_NAMESPACE), so tests running side by side on one
   * NATS and one FerretDB never see each other's events.
   */
  namespace?: string;
  /** Added to every port (gRPC 5005x, metrics 946x, HTTP 8080), to run beside another stack. */
  portOffset?: number;
  /** Authentication on (see createStackAuth); off when absent. */
  auth?: StackAuth;
}

export const METRICS_PORTS: Record<Service, number> = { intake: 9461, scoring: 9462, routing: 9463, nurture: 9464, 'crm-sync': 9465 };
/** HTTP doors: intake's web form, nurture's unsubscribe link. */
export const HTTP_PORTS: Partial<Record<Service, number>> = { intake: 8080, nurture: 8084, 'crm-sync': 8086 };

export function httpUrl(name: 'intake' | 'nurture' | 'crm-sync', portOffset = 0): string {
  return `http://127.0.0.1:${HTTP_PORTS[name]! + portOffset}`;
}

/** Where a service of a stack started with this offset listens. */
export function grpcAddress(name: Service, portOffset = 0): string {
  return `127.0.0.1:${GRPC_PORTS[name] + portOffset}`;
}

function serviceEnv(name: Service, options: StackOptions): Record<string, string> {
  const offset = options.portOffset ?? 0;
  const env: Record<string, string> = {
    GRPC_PORT: String(GRPC_PORTS[name] + offset),
    METRICS_PORT: String(METRICS_PORTS[name] + offset),
  };
  if (HTTP_PORTS[name]) env.HTTP_PORT = String(HTTP_PORTS[name]! + offset);
  for (const peer of SERVICES) env[`${peer.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`] = grpcAddress(peer, offset);
  if (options.namespace) env.LEADMESH_NAMESPACE = options.namespace;
  // Its own NATS user, as in a cluster: it may publish only its own subjects.
  return { ...env, ...natsUserEnv(name), ...options.auth?.env, ...options.auth?.perService[name], ...options.env };
}

export interface RunningService {
  name: Service;
  process: ChildProcess;
  logFile: string;
}

/**
 * The key intake's erasure hash is keyed with locally: made once per machine, outside the repo
 * (ERASURE_HASH_KEY has no default in any environment), and kept, so an erasure asked again after
 * a restart still finds the first.
 */
export function localErasureHashKey(): string {
  const file = join(RUN_DIR, 'erasure-hash-key');
  if (!existsSync(file)) {
    mkdirSync(RUN_DIR, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process made it first: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/** The variables a local run gives every service: loopback infrastructure, fast span export. */
export function localEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    // As the images set it (services/*/Dockerfile).
    MALLOC_ARENA_MAX: '2',
    NATS_URL: TEST_NATS_URL,
    MONGO_URL: 'mongodb://127.0.0.1:27017/',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    LOG_LEVEL: 'info',
    CRM_PROVIDER: 'salesforce',
    SALESFORCE_LOGIN_URL: 'http://127.0.0.1:8090',
    SALESFORCE_CLIENT_ID: 'leadmesh-local',
    SALESFORCE_CLIENT_SECRET: 'local-simulator-secret',
    HUBSPOT_BASE_URL: 'http://127.0.0.1:8090',
    HUBSPOT_TOKEN: 'local-simulator-token',
    SMTP_URL: 'smtp://127.0.0.1:1025',
    UNSUBSCRIBE_SECRET: 'local-unsubscribe-secret',
    ERASURE_HASH_KEY: localErasureHashKey(),
    ...extra,
  };
}

/** The Node 24 binary the project pins (node@24 dev dependency), as the containers use Node 24. */
export function nodeBinary(): string {
  return join(ROOT, 'node_modules', '.bin', 'node');
}

// A test that dies before its afterAll must not leave services holding ports for the next one.
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function startService(name: Service, options: StackOptions = {}): RunningService {
  const logDir = options.logDir ?? join(ROOT, '.cache', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  // Exactly the package's start script (and the Dockerfile's CMD). LEADMESH_CPU_PROF_DIR profiles
  // each service (a .cpuprofile per process, written when it stops): Node refuses --cpu-prof in NODE_OPTIONS.
  const profile = process.env.LEADMESH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LEADMESH_CPU_PROF_DIR}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`] : [];
  const env = { ...process.env, ...localEnv(serviceEnv(name, options)) };
  // The service's user may not create streams: the admin provisions them (in the background).
  provisionStreams(env);
  const child = spawn(nodeBinary(), [...profile, '--max-semi-space-size=8', '--import', './dist/telemetry.js', 'dist/main.js'], {
    cwd: join(ROOT, 'services', name),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  started.add(child);
  child.once('exit', () => started.delete(child));
  return { name, process: child, logFile };
}

export async function stopService(service: RunningService, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (service.process.exitCode !== null || service.process.signalCode !== null) return;
  const exited = once(service.process, 'exit');
  service.process.kill(signal);
  const timer = setTimeout(() => service.process.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export function startStack(options: StackOptions = {}): RunningService[] {
  return SERVICES.map((name) => startService(name, options));
}

export async function stopStack(services: RunningService[]): Promise<void> {
  await Promise.all(services.map((s) => stopService(s)));
}

/**
 * Authentication for a test stack: a signing key made for this run (never stored), the public key
 * handed to every service, each service its own identity token, and tokens for test callers.
 */
export interface StackAuth {
  env: Record<string, string>;
  perService: Partial<Record<Service, Record<string, string>>>;
  token(scopes: string[], subject?: string): Promise<string>;
}

/** What intake's own identity may call: the journey's reads and personalization's pure RPCs. */
export const INTAKE_SERVICE_SCOPES = ['leads:read', 'scoring:preview', 'nurture:preview'];

export async function createStackAuth(existing?: { kid: string; privateJwk: object; jwks: object }): Promise<StackAuth> {
  const { generateSigningKey, mintToken } = await import('../../packages/platform/dist/auth/tokens.js');
  const key = (existing as Awaited<ReturnType<typeof generateSigningKey>>) ?? (await generateSigningKey());
  const perService: StackAuth['perService'] = {};
  // Only intake calls others today (each service's part of a lead's journey, leads:read; scoring's
  // and nurture's pure RPCs for personalization); every service gets a token anyway so a test
  // stack never depends on which ones call.
  for (const name of SERVICES) {
    const scopes = name === 'intake' ? INTAKE_SERVICE_SCOPES : ['leads:read'];
    perService[name] = { LEADMESH_SERVICE_TOKEN: await mintToken(key, { subject: `service:${name}`, scopes, expiresIn: '2h' }) };
  }
  return {
    env: { AUTH_JWKS_JSON: JSON.stringify(key.jwks), AUTH_REQUIRED: 'true' },
    perService,
    token: (scopes, subject = 'team:test') => mintToken(key, { subject, scopes, expiresIn: '1h' }),
  };
}

/** Every scope any RPC requires, read from the contracts. */
export async function allScopes(): Promise<string[]> {
  const { getOption } = await import('@bufbuild/protobuf');
  const { auth, intake, scoring, routing, nurture, crmsync, parkedevents, audit } = await import('../../packages/contracts/dist/index.js');
  const scopes = new Set<string>();
  for (const api of [intake.IntakeService, scoring.ScoringService, routing.RoutingService, nurture.NurtureService, crmsync.CrmSyncService, parkedevents.ParkedEventsService, audit.AuditService]) {
    for (const method of api.methods) scopes.add(getOption(method, auth.required_scope));
  }
  // A scope no RPC requires on its own: AcceptLead for an owner other than the caller (routing's mayAcceptAs).
  scopes.add('leads:accept-any');
  return [...scopes].filter(Boolean).sort();
}
