// The console and its local OpenID Connect provider as processes, started the way `npm start` and
// the console's stack tests start them (the console exactly as its container runs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, grpcAddress, nodeBinary, SERVICES } from './stack.ts';
import { eventually } from './eventually.ts';

export const OIDC_PORT = 5556;
export const CONSOLE_PORT = 8088;
export const OIDC_ISSUER = `http://127.0.0.1:${OIDC_PORT}`;
export const CONSOLE_URL = `http://127.0.0.1:${CONSOLE_PORT}`;
/** The local provider's users (scripts/oidc-provider.ts) and the one password they share. */
export const CONSOLE_USERS = {
  marketingOps: 'mia@leadmesh.local',
  salesOps: 'sam@leadmesh.local',
  viewer: 'vic@leadmesh.local',
  privacy: 'pia@leadmesh.local',
} as const;
export const CONSOLE_PASSWORD = 'leadmesh-local';

/** What the services need to accept the provider's tokens (beside the stack's own keys). */
export const OIDC_SERVICE_ENV = { AUTH_OIDC_ISSUER: OIDC_ISSUER };

export interface ConsoleProcesses {
  provider: ChildProcess;
  console: ChildProcess;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function run(name: string, args: string[], cwd: string, env: Record<string, string>, logDir: string): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(nodeBinary(), args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the provider and the console (pointed at the services of a stack at this offset) and waits for both. */
export async function startConsole(options: { portOffset?: number; logDir?: string; env?: Record<string, string> } = {}): Promise<ConsoleProcesses> {
  const logDir = options.logDir ?? join(ROOT, '.cache', 'logs');
  const provider = run('oidc-provider', ['scripts/oidc-provider.ts'], ROOT, { OIDC_PORT: String(OIDC_PORT), CONSOLE_URL }, logDir);
  const addresses = Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`, grpcAddress(s, options.portOffset ?? 0)]));
  const consoleProcess = run(
    'console',
    ['--import', './dist/telemetry.js', 'dist/main.js'],
    join(ROOT, 'services', 'console'),
    {
      CONSOLE_PORT: String(CONSOLE_PORT),
      OIDC_ISSUER,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      ...addresses,
      ...options.env,
    },
    logDir,
  );
  const answers = async (url: string) => ((await fetch(url, { redirect: 'manual' })).status < 500 ? true : undefined);
  await eventually('the OIDC provider to answer', () => answers(`${OIDC_ISSUER}/.well-known/openid-configuration`), 60_000, 200);
  await eventually('the console to answer', () => answers(`${CONSOLE_URL}/healthz`), 60_000, 200);
  return {
    provider,
    console: consoleProcess,
    stop: async () => {
      await Promise.all([stop(consoleProcess), stop(provider)]);
    },
  };
}
