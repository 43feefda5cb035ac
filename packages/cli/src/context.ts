// What every command needs: the client (made on first use, from LEADMESH_* variables) and where to
// write. Injected, so tests can run commands against any stack and capture what they print.
import type { LeadmeshClient } from '@leadmesh/client';
import type { Output } from './progress.js';

export interface CliContext {
  client(): LeadmeshClient;
  out: Output;
  err: Output;
  /** Pause between progress polls. */
  pollMs: number;
}

/** Errors the operator caused (bad arguments), printed without a stack. */
export class UsageError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function leadIdArgument(value: string): string {
  if (!UUID.test(value)) throw new UsageError(`leadId must be a lead's UUID, got "${value}"`);
  return value.toLowerCase();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
