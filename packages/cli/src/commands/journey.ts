import { readLeadJourney, type LeadJourney } from '@leadmesh/client';
import type { Command } from 'commander';
import { leadIdArgument, sleep, UsageError, type CliContext } from '../context.js';
import { formatJourney } from '../format.js';

export function journeyCommand(program: Command, ctx: CliContext): void {
  program
    .command('journey')
    .description("show a lead's journey through intake, scoring, routing, nurture and the CRM as a timeline")
    .argument('<leadId>', "the lead's id (from submit, the CRM or a log line)", leadIdArgument)
    .option('--wait <seconds>', 'wait up to this long for the lead to reach the CRM first')
    .option('--json', 'print the journey as JSON')
    .action(async (leadId: string, o: { wait?: string; json?: boolean }) => {
      const waitMs = o.wait === undefined ? 0 : Number(o.wait) * 1_000;
      if (!Number.isFinite(waitMs) || waitMs < 0) throw new UsageError(`--wait must be a number of seconds, got "${o.wait}"`);
      const journey = await journeyWhenSynced(ctx, leadId, waitMs);
      ctx.out.write(o.json ? `${JSON.stringify(journey, null, 2)}\n` : `${formatJourney(journey)}\n`);
    });
}

/** Synced, or given up: either way the story has reached its end for now. */
const settled = (j: LeadJourney) => j.events.some((e) => e.service === 'crm-sync' && (e.summary.startsWith('synced') || e.summary === 'CRM sync failed'));

async function journeyWhenSynced(ctx: CliContext, leadId: string, waitMs: number): Promise<LeadJourney> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const journey = await readLeadJourney(ctx.client(), leadId);
    if (settled(journey) || Date.now() >= deadline) return journey;
    await sleep(ctx.pollMs);
  }
}
