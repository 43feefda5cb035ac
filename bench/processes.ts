// Child processes of the bench (baseline servers, chain hops) and what the kernel says about
// their memory. Everything started here is registered for cleanup, also on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBinary, ROOT } from '../test/harness/stack.ts';

/** The store every part of the run uses: the local FerretDB unless BENCH_MONGO_URL names another (e.g. a MongoDB). */
export const MONGO_URL = process.env.BENCH_MONGO_URL ?? 'mongodb://127.0.0.1:27017/';

const cleanups: Array<() => Promise<void>> = [];

/** Runs `fn` at the end of the run, last registered first, also on Ctrl-C or failure. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export async function cleanupAll(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch((err) => console.error(`cleanup: ${(err as Error).message}`));
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts `bench/<script>` on Node 24 and waits for it to print "ready". */
export async function startChild(script: string, args: string[], timeoutMs = 20_000): Promise<ChildProcess> {
  const child = spawn(nodeBinary(), [join(ROOT, 'bench', script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(() => stopChild(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms: ${output}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${output}`));
    });
  });
  child.removeAllListeners('exit');
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

export interface Memory {
  /** Peak resident set (VmHWM), MB. */
  peakRssMb: number;
  /** Resident set now (VmRSS), MB. */
  rssMb: number;
}

export function memoryOf(pid: number | undefined): Memory | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakRssMb: Math.round(kb('VmHWM') / 102.4) / 10, rssMb: Math.round(kb('VmRSS') / 102.4) / 10 };
  } catch {
    return undefined;
  }
}
