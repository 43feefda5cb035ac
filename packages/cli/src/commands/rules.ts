import { readFile } from 'node:fs/promises';
import type { scoring } from '@leadmesh/client';
import type { Command } from 'commander';
import { sleep, UsageError, type CliContext } from '../context.js';
import { formatRescore, formatRuleSets } from '../format.js';
import { ProgressReporter } from '../progress.js';

export function rulesCommand(program: Command, ctx: CliContext): void {
  const rules = program.command('rules').description('scoring rule sets: list, publish, activate (activating an older version is the rollback)');

  rules
    .command('list')
    .description('list the published rule-set versions; * marks the active one')
    .action(async () => {
      ctx.out.write(`${formatRuleSets(await ctx.client().scoring.listRuleSets({}))}\n`);
    });

  rules
    .command('publish')
    .description('publish a rule set from a YAML file; its `version` field names it. It is not active until activated.')
    .argument('<file>', 'the rule set as YAML')
    .action(async (file: string) => {
      const document = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read rule set file ${file}: ${err.code ?? err.message}`);
      });
      const { ruleSet } = await ctx.client().scoring.publishRuleSet({ document });
      ctx.out.write(`published rule set ${ruleSet?.version}${ruleSet?.description ? `: ${ruleSet.description}` : ''}\nactivate it with: leadmesh rules activate ${ruleSet?.version}\n`);
    });

  rules
    .command('activate')
    .description('make a version active and rescore every stored lead with it, showing progress')
    .argument('<version>')
    .option('--no-wait', 'return once the rescore has started')
    .action(async (version: string, o: { wait: boolean }) => {
      const { ruleSet, rescore } = await ctx.client().scoring.activateRuleSet({ version });
      ctx.out.write(`rule set ${ruleSet?.version ?? version} is active\n`);
      if (!rescore) return;
      if (!o.wait) {
        ctx.out.write(`rescore ${rescore.jobId} started for ${rescore.total} leads\n`);
        return;
      }
      ctx.out.write(`${formatRescore(await followRescore(ctx, rescore))}\n`);
    });
}

/** Polls GetRescoreProgress until the job is finished, redrawing one progress line. */
async function followRescore(ctx: CliContext, job: scoring.RescoreJob): Promise<scoring.RescoreJob> {
  const progress = new ProgressReporter(ctx.err);
  let current = job;
  while (!current.finished) {
    progress.update(formatRescore(current));
    await sleep(ctx.pollMs);
    current = (await ctx.client().scoring.getRescoreProgress({ jobId: job.jobId })).rescore ?? current;
  }
  progress.done();
  return current;
}
