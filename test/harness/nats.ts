// The local backbone's credentials for tests and the suite (made by scripts/infra.sh, outside the
// repo): each service connects as its own NATS user, tests and tools as the admin, and the
// streams of a run's namespace are provisioned by the admin, as the k8s Job does in a cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { nkeyAuthenticator, type ConnectionOptions } from '@nats-io/nats-core';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT, nodeBinary } from './stack.ts';

export const RUN_DIR = process.env.LEADMESH_RUN ?? join(process.env.LEADMESH_CACHE ?? join(homedir(), '.cache', 'leadmesh'), 'run');

/** Where scripts/infra.sh keeps the users' nkey seeds and the TLS CA. */
export const NATS_AUTH_DIR = process.env.LEADMESH_NATS_AUTH ?? join(RUN_DIR, 'nats-auth');

export type NatsUser = 'admin' | 'intake' | 'scoring' | 'routing' | 'nurture' | 'crm-sync';

/** The settings that make a process connect as `user` (seed file and the CA of the server's certificate). */
export function natsUserEnv(user: NatsUser): Record<string, string> {
  if (!existsSync(join(NATS_AUTH_DIR, 'ca.crt'))) return {};
  return { NATS_NKEY_SEED_FILE: join(NATS_AUTH_DIR, `${user}.nk`), NATS_TLS_CA_FILE: join(NATS_AUTH_DIR, 'ca.crt') };
}

/** Options for a bare NATS connection (tools, benchmarks, tests) as the local admin; none on a server without auth. */
export function adminConnectOptions(): Partial<ConnectionOptions> {
  const env = natsUserEnv('admin');
  if (!env.NATS_NKEY_SEED_FILE) return {};
  return {
    authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(env.NATS_NKEY_SEED_FILE, 'utf8').trim())),
    tls: { caFile: env.NATS_TLS_CA_FILE },
  };
}

const provisioned = new Map<string, ChildProcess>();
process.once('exit', () => {
  for (const child of provisioned.values()) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * Creates a namespace's streams on a server as the admin (one provisioner at a time per server and
 * namespace): the services' own users may not, and wait for them. In the background, retrying
 * until the server answers, so a test may start its services before its NATS.
 */
export function provisionStreams(env: Record<string, string | undefined>): void {
  const key = `${env.NATS_URL}|${env.LEADMESH_NAMESPACE ?? ''}`;
  if (provisioned.has(key)) return;
  const child = spawn(nodeBinary(), [join(ROOT, 'packages', 'platform', 'dist', 'nats', 'provision.js')], {
    env: { ...env, ...natsUserEnv('admin'), NATS_PROVISION_RETRY: 'true' },
    stdio: 'ignore',
  });
  child.unref();
  provisioned.set(key, child);
  // Once done, the next service started provisions again (idempotent): a test may have deleted
  // the namespace's streams in between (chaos/support's freshNamespace).
  child.once('exit', () => provisioned.get(key) === child && provisioned.delete(key));
}
