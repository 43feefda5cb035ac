import { SERVICE_NAMES, type ServiceName, type parkedevents } from '@leadmesh/client';
import type { Command } from 'commander';
import { UsageError, type CliContext } from '../context.js';
import { formatParkedEvents, formatParkedReplay } from '../format.js';

function serviceArgument(value: string): ServiceName {
  if (!(SERVICE_NAMES as readonly string[]).includes(value)) throw new UsageError(`service must be one of ${SERVICE_NAMES.join(', ')}, got "${value}"`);
  return value as ServiceName;
}

function sequenceArgument(value: string): bigint {
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`sequence must be a parked event's sequence number, got "${value}"`);
  return BigInt(value);
}

async function allParked(ctx: CliContext, service: ServiceName): Promise<parkedevents.ParkedEvent[]> {
  const all: parkedevents.ParkedEvent[] = [];
  let pageToken = '';
  do {
    const page = await ctx.client().parkedEvents[service].listParkedEvents({ pageSize: 200, pageToken });
    all.push(...page.parkedEvents);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}

/** Events a service's consumers parked because they failed on their own merits; the same for all five services. */
export function parkedCommand(program: Command, ctx: CliContext): void {
  const parked = program.command('parked').description("events a service parked (undecodable, invalid, or a rule threw), with replay");

  parked
    .command('list')
    .description("list a service's parked events, oldest first")
    .argument('<service>', SERVICE_NAMES.join(' | '), serviceArgument)
    .action(async (service: ServiceName) => {
      ctx.out.write(`${formatParkedEvents(service, await allParked(ctx, service))}\n`);
    });

  parked
    .command('replay')
    .description('hand parked events to their consumer again; an event that fails again stays parked')
    .argument('<service>', SERVICE_NAMES.join(' | '), serviceArgument)
    .argument('[sequence]', 'replay this parked event only', sequenceArgument)
    .option('--all', "replay every event the service parked")
    .action(async (service: ServiceName, sequence: bigint | undefined, o: { all?: boolean }) => {
      if (sequence === undefined && !o.all) throw new UsageError('name a sequence to replay, or pass --all');
      if (sequence !== undefined && o.all) throw new UsageError('pass either a sequence or --all, not both');
      const target = sequence !== undefined ? { case: 'sequence' as const, value: sequence } : { case: 'all' as const, value: true };
      ctx.out.write(`${formatParkedReplay(await ctx.client().parkedEvents[service].replayParkedEvents({ target }))}\n`);
    });
}
