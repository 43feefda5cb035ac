// The `leadmesh` command: what operators and marketers run against a leadmesh installation, on the
// same @leadmesh/client and credentials as every other team.
import { readFileSync } from 'node:fs';
import { createLeadmeshClient, optionsFromEnv, type LeadmeshClient } from '@leadmesh/client';
import { Command, CommanderError } from 'commander';
import { deadLettersCommand } from './commands/dead-letters.js';
import { eraseCommand } from './commands/erase.js';
import { journeyCommand } from './commands/journey.js';
import { parkedCommand } from './commands/parked.js';
import { auditCommand } from './commands/audit.js';
import { rulesCommand } from './commands/rules.js';
import { submitCommand } from './commands/submit.js';
import { UsageError, type CliContext } from './context.js';
import { formatError } from './format.js';
import type { Output } from './progress.js';

export interface RunOptions {
  env?: Record<string, string | undefined>;
  out?: Output;
  err?: Output;
  pollMs?: number;
}

function buildProgram(ctx: CliContext): Command {
  const program = new Command('leadmesh')
    .description('Operate leadmesh: submit a test lead, follow a journey, replay dead letters and parked events, manage scoring rule sets, erase a contact.')
    .addHelpText('after', `
Connection (environment):
  LEADMESH_TOKEN                 bearer token or API key of your team
  LEADMESH_<SERVICE>_ADDR        e.g. LEADMESH_INTAKE_ADDR, LEADMESH_CRM_SYNC_ADDR (default: the local ports)
  LEADMESH_TLS=1 | LEADMESH_TLS_CA, LEADMESH_TLS_CERT, LEADMESH_TLS_KEY   TLS and mutual TLS
  LEADMESH_TIMEOUT_MS            deadline per call`)
    .configureOutput({ writeOut: (s) => ctx.out.write(s), writeErr: (s) => ctx.err.write(s) })
    .exitOverride()
    .showHelpAfterError();
  submitCommand(program, ctx);
  journeyCommand(program, ctx);
  deadLettersCommand(program, ctx);
  parkedCommand(program, ctx);
  auditCommand(program, ctx);
  rulesCommand(program, ctx);
  eraseCommand(program, ctx);
  return program;
}

/** Runs one command line (without the node and script arguments); resolves to the exit code. */
export async function run(args: string[], options: RunOptions = {}): Promise<number> {
  let client: LeadmeshClient | undefined;
  const env = options.env ?? process.env;
  const ctx: CliContext = {
    client: () => (client ??= createLeadmeshClient(optionsFromEnv(env, (path) => readFileSync(path)))),
    out: options.out ?? process.stdout,
    err: options.err ?? process.stderr,
    pollMs: options.pollMs ?? 500,
  };
  try {
    await buildProgram(ctx).parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    ctx.err.write(`leadmesh: ${err instanceof UsageError ? err.message : formatError(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  } finally {
    client?.close();
  }
}
