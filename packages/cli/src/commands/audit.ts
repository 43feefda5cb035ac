import { SERVICE_NAMES, type ServiceName } from '@leadmesh/client';
import type { Command } from 'commander';
import { UsageError, type CliContext } from '../context.js';
import { formatAuditRecords } from '../format.js';

function serviceArgument(value: string): ServiceName {
  if (!(SERVICE_NAMES as readonly string[]).includes(value)) throw new UsageError(`service must be one of ${SERVICE_NAMES.join(', ')}, got "${value}"`);
  return value as ServiceName;
}

/** A service's audit record of its privileged calls; the same for all five services. */
export function auditCommand(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .description("a service's privileged calls (rule sets, replays, erasure, owner changes): who, on what, how it ended")
    .argument('<service>', SERVICE_NAMES.join(' | '), serviceArgument)
    .option('--caller <subject>', 'only this caller (a token subject, e.g. user:mia)')
    .option('--limit <n>', 'newest n records', '50')
    .action(async (service: ServiceName, o: { caller?: string; limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be 1 to 1000, got "${o.limit}"`);
      const { records } = await ctx.client().audit[service].listAuditRecords({ pageSize: limit, caller: o.caller ?? '' });
      ctx.out.write(`${formatAuditRecords(service, records)}\n`);
    });
}
