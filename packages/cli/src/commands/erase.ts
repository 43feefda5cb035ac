import type { intake } from '@leadmesh/client';
import type { Command } from 'commander';
import { sleep, type CliContext } from '../context.js';
import { formatErasure, progressLine } from '../format.js';
import { ProgressReporter } from '../progress.js';

export function eraseCommand(program: Command, ctx: CliContext): void {
  program
    .command('erase')
    .description('right to erasure: remove the person everywhere, then follow each service until it has finished')
    .argument('<email>', "the person's email")
    .option('--no-wait', 'return once the erasure is requested')
    .action(async (email: string, o: { wait: boolean }) => {
      const requested = await ctx.client().intake.eraseContact({ email });
      ctx.out.write(`erasure ${requested.erasureId} requested${requested.leadId ? ` for lead ${requested.leadId}` : ' (intake never knew this address; a tombstone is kept anyway)'}\n`);
      if (!o.wait) return;
      ctx.out.write(`${formatErasure(await followErasure(ctx, requested.erasureId))}\n`);
    });
}

async function followErasure(ctx: CliContext, erasureId: string): Promise<intake.GetErasureResponse> {
  const progress = new ProgressReporter(ctx.err);
  for (;;) {
    const state = await ctx.client().intake.getErasure({ erasureId });
    const done = state.services.filter((s) => s.completed).length;
    if (state.completed) {
      progress.done();
      return state;
    }
    progress.update(progressLine('erasing', done, state.services.length));
    await sleep(ctx.pollMs);
  }
}
