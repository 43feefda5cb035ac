// Private NATS and FerretDB servers for the chaos tests: the pinned binaries from scripts/infra.sh,
// on this test's own ports and data folders, so they can be killed and restarted without touching
// the shared servers on 4222 and 27017 that other stacks use.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { INFRA_BIN, ferretdbArgs } from '../harness/servers.ts';
import { NATS_AUTH_DIR, natsUserEnv } from '../harness/nats.ts';
import { ROOT } from '../harness/stack.ts';

export { INFRA_BIN };

function run(binary: string, args: string[], logFile: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(join(INFRA_BIN, binary), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

export async function killHard(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function waitPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface NatsNodeOptions {
  dir: string;
  port: number;
  name: string;
  /** Cluster port of this node and the cluster ports of its peers, for a JetStream cluster. */
  cluster?: { port: number; peers: number[] };
}

/**
 * What makes a test's own nats-server locked as the shared local one is: TLS and the services' own
 * users (scripts/infra.sh's credentials). The lines go into its configuration in `dir`, the
 * environment (the users' public keys) to its process.
 */
export function natsLock(dir: string): { lines: string[]; env: Record<string, string> } {
  if (!natsUserEnv('admin').NATS_NKEY_SEED_FILE) return { lines: [], env: {} };
  // nats-server includes by a relative path only.
  copyFileSync(join(ROOT, 'deploy/local/nats-authorization.conf'), join(dir, 'nats-authorization.conf'));
  return {
    lines: [`tls { cert_file: "${join(NATS_AUTH_DIR, 'server.crt')}", key_file: "${join(NATS_AUTH_DIR, 'server.key')}", timeout: 2 }`, 'include ./nats-authorization.conf'],
    env: Object.fromEntries(readFileSync(join(NATS_AUTH_DIR, 'users.env'), 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string])),
  };
}

/** One nats-server with JetStream on a store folder that survives its restarts. */
export class NatsNode {
  child?: ChildProcess;
  constructor(readonly options: NatsNodeOptions) {}

  get url(): string {
    return `nats://127.0.0.1:${this.options.port}`;
  }

  async start(): Promise<void> {
    const { dir, port, name, cluster } = this.options;
    mkdirSync(join(dir, 'store'), { recursive: true });
    const lines = [`server_name: ${name}`, `listen: 127.0.0.1:${port}`, `jetstream { store_dir: "${join(dir, 'store')}" }`];
    if (cluster) {
      const routes = cluster.peers.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
      lines.push(`cluster { name: chaos, listen: 127.0.0.1:${cluster.port}, routes: [${routes}] }`);
    }
    const lock = natsLock(dir);
    lines.push(...lock.lines);
    const users = lock.env;
    writeFileSync(join(dir, 'nats.conf'), `${lines.join('\n')}\n`);
    this.child = run('nats-server', ['-c', join(dir, 'nats.conf')], join(dir, 'nats.log'), users);
    await waitPort(port);
  }

  kill(): Promise<void> {
    return killHard(this.child);
  }
}

/** One FerretDB whose data (in the shared PostgreSQL, or a SQLite folder) survives its restarts. */
export class FerretNode {
  child?: ChildProcess;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mongodb://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    this.child = run('ferretdb', ferretdbArgs(this.port, join(this.dir, 'data')), join(this.dir, 'ferretdb.log'));
    await waitPort(this.port);
  }

  kill(): Promise<void> {
    return killHard(this.child);
  }
}
