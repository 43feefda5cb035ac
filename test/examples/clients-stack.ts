// A whole leadmesh stack in its own namespace, with the CRM simulator (a test fixture), for the
// tests that drive it the way other teams do: the client examples and the leadmesh CLI. They get
// the stack's addresses the same way a team's program would, through LEADMESH_* variables.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { NatsClient, createLogger, topology } from '@leadmesh/platform';
import mongoose from 'mongoose';
import { startCrmSimulator, SIMULATOR_DEFAULTS, type CrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { waitServing } from '../harness/health.ts';
import { ROOT, SERVICES, createStackAuth, grpcAddress, nodeBinary, startService, stopService, type RunningService } from '../harness/stack.ts';

export interface ClientsStack {
  /** LEADMESH_<SERVICE>_ADDR for every service of this stack, and LEADMESH_TOKEN with the scopes asked for. */
  env: Record<string, string>;
  /** A token for the same stack with other scopes. */
  token(scopes: string[]): Promise<string>;
  sim: CrmSimulator;
  stop(): Promise<void>;
}

/** Clears what an earlier run of the same namespace left: streams and databases. */
async function resetNamespace(namespace: string): Promise<void> {
  const nats = new NatsClient('nats://127.0.0.1:4222', 'clients-test', createLogger('test', 'silent'), topology(namespace));
  nats.start();
  await nats.ready();
  try {
    for (const stream of [nats.topology.pipelineStream, nats.topology.deadLetterStream]) await nats.jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nats.close();
  }
  const conn = await mongoose.createConnection('mongodb://127.0.0.1:27017/').asPromise();
  try {
    for (const service of SERVICES) await conn.useDb(`leadmesh_${namespace.replace(/-/g, '_')}_${service.replace(/-/g, '_')}`).dropDatabase();
  } finally {
    await conn.close();
  }
}

/** Authentication is on, as in production: every call needs a token with the RPC's scope. */
export async function startClientsStack(namespace: string, portOffset: number, scopes: string[], env: Record<string, string> = {}): Promise<ClientsStack> {
  await resetNamespace(namespace);
  const auth = await createStackAuth();
  const sim = await startCrmSimulator({ port: 8090 + portOffset });
  const services: RunningService[] = SERVICES.map((name) =>
    startService(name, {
      namespace,
      portOffset,
      auth,
      logDir: join(ROOT, '.cache', 'logs', namespace),
      env: {
        CRM_PROVIDER: 'salesforce',
        SALESFORCE_LOGIN_URL: sim.url,
        SALESFORCE_CLIENT_ID: SIMULATOR_DEFAULTS.salesforceClientId,
        SALESFORCE_CLIENT_SECRET: SIMULATOR_DEFAULTS.salesforceClientSecret,
        HUBSPOT_BASE_URL: sim.url,
        HUBSPOT_TOKEN: SIMULATOR_DEFAULTS.hubspotToken,
        ...env,
      },
    }),
  );
  const stop = async () => {
    await Promise.all(services.map((s) => stopService(s)));
    await sim.close();
  };
  try {
    await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, portOffset), 90_000)));
  } catch (err) {
    await stop();
    throw err;
  }
  const addrEnv = Object.fromEntries(SERVICES.map((s) => [`LEADMESH_${s.toUpperCase().replace(/-/g, '_')}_ADDR`, grpcAddress(s, portOffset)]));
  return { env: { ...addrEnv, LEADMESH_TOKEN: await auth.token(scopes, `team:${namespace}`) }, token: (s) => auth.token(s), sim, stop };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end and keeps what it printed, failing or not. */
export function run(file: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The leadmesh CLI as an operator runs it: the built bin on Node 24. */
export const leadmeshCli = (args: string[], env: Record<string, string>) => run(nodeBinary(), [join(ROOT, 'packages', 'cli', 'dist', 'main.js'), ...args], { env });

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
