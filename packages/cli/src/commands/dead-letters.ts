import type { crmsync } from '@leadmesh/client';
import type { Command } from 'commander';
import { leadIdArgument, UsageError, type CliContext } from '../context.js';
import { formatDeadLetters, formatError, formatReplayResult, progressLine, type ReplayTally } from '../format.js';
import { ProgressReporter } from '../progress.js';

/** Every dead letter, page by page. */
async function allDeadLetters(ctx: CliContext, pageSize: number): Promise<crmsync.DeadLetter[]> {
  const all: crmsync.DeadLetter[] = [];
  let pageToken = '';
  do {
    const page = await ctx.client().crmSync.listDeadLetters({ pageSize, pageToken });
    all.push(...page.deadLetters);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}

export function deadLettersCommand(program: Command, ctx: CliContext): void {
  const deadLetters = program.command('dead-letters').description("leads whose CRM sync was given up, with the CRM's error");

  deadLetters
    .command('list')
    .description('list every dead letter')
    .option('--page-size <n>', 'dead letters per request', '200')
    .action(async (o: { pageSize: string }) => {
      ctx.out.write(`${formatDeadLetters(await allDeadLetters(ctx, pageSizeOf(o.pageSize)))}\n`);
    });

  deadLetters
    .command('replay')
    .description('send dead-lettered leads to the CRM again; an already synced lead is skipped')
    .argument('[leadId]', 'replay this lead only', leadIdArgument)
    .option('--all', 'replay every dead letter, lead by lead, with progress')
    .option('--concurrency <n>', 'replays in flight with --all', '4')
    .action(async (leadId: string | undefined, o: { all?: boolean; concurrency: string }) => {
      if (!leadId && !o.all) throw new UsageError('name a leadId to replay, or pass --all');
      if (leadId && o.all) throw new UsageError('pass either a leadId or --all, not both');
      if (leadId) {
        const r = await ctx.client().crmSync.replay({ target: { case: 'leadId', value: leadId } });
        ctx.out.write(`${formatReplayResult(r)}\n`);
        return;
      }
      const leadIds = [...new Set((await allDeadLetters(ctx, 500)).map((d) => d.leadId))];
      const { tally, errors } = await replayEach(ctx, leadIds, pageSizeOf(o.concurrency, '--concurrency', 64));
      ctx.out.write(`${formatReplayResult(tally, errors)}\n`);
    });
}

function pageSizeOf(value: string, name = '--page-size', max = 1000): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name} must be a whole number from 1 to ${max}, got "${value}"`);
  return n;
}

/**
 * One Replay per lead rather than Replay(all), so a replay of thousands shows how far it has come
 * and a lead that fails is named instead of lost in a count.
 */
async function replayEach(ctx: CliContext, leadIds: string[], concurrency: number) {
  const tally: ReplayTally = { replayed: 0, skipped: 0, failed: 0 };
  const errors: Array<{ leadId: string; error: string }> = [];
  const progress = new ProgressReporter(ctx.err);
  let done = 0;
  let next = 0;
  progress.update(progressLine('replaying dead letters', 0, leadIds.length));
  const worker = async () => {
    for (let i = next++; i < leadIds.length; i = next++) {
      const leadId = leadIds[i]!;
      try {
        const r = await ctx.client().crmSync.replay({ target: { case: 'leadId', value: leadId } });
        tally.replayed += r.replayed;
        tally.skipped += r.skipped;
        tally.failed += r.failed;
      } catch (err) {
        tally.failed += 1;
        errors.push({ leadId, error: formatError(err) });
      }
      progress.update(progressLine('replaying dead letters', ++done, leadIds.length));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, leadIds.length) }, worker));
  progress.done();
  return { tally, errors };
}
