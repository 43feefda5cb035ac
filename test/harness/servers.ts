// The pinned server binaries (scripts/infra.sh) for tests that run a NATS or FerretDB of their own,
// to kill and restart it without touching the shared servers other stacks use.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack.ts';

const infra = (command: string) => execFileSync('bash', [join(ROOT, 'scripts', 'infra.sh'), command], { encoding: 'utf8' }).trim();

export const INFRA_BIN = infra('bin');

/** The backend the shared FerretDB runs on: a PostgreSQL URL, or "sqlite". */
const STORE = infra('store-url');

/**
 * Arguments for a FerretDB of a test's own on `port`. On PostgreSQL it shares the local PostgreSQL
 * (each test uses its own database names, so nothing collides) and killing it is killing FerretDB,
 * the MongoDB-protocol server the services talk to; on SQLite it keeps its data in `dataDir`.
 */
export function ferretdbArgs(port: number, dataDir: string): string[] {
  const listen = ['--listen-addr', `127.0.0.1:${port}`];
  if (STORE === 'sqlite') return [...listen, '--handler', 'sqlite', '--sqlite-url', `file:${dataDir}/`];
  return [...listen, '--handler', 'postgresql', '--postgresql-url', STORE];
}
