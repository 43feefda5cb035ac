import type { Command } from 'commander';
import { UsageError, type CliContext } from '../context.js';
import { formatSubmitted } from '../format.js';

interface SubmitOptions {
  email: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  jobTitle?: string;
  country?: string;
  companySize?: string;
  product?: string;
  message?: string;
  formId: string;
  utmSource?: string;
  consent?: boolean;
  idempotencyKey?: string;
}

export function submitCommand(program: Command, ctx: CliContext): void {
  program
    .command('submit')
    .description('submit a test lead through intake, exactly as a Contact Sales form would')
    .requiredOption('--email <email>', "the person's email")
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--company <name>')
    .option('--job-title <title>')
    .option('--country <country>', 'name or ISO 3166-1 alpha-2 code')
    .option('--company-size <employees>')
    .option('--product <product>', 'product of interest')
    .option('--message <text>')
    .option('--form-id <id>', 'the form it came from', 'leadmesh-cli')
    .option('--utm-source <source>')
    .option('--consent', 'the person agreed to email marketing')
    .option('--idempotency-key <key>', 'submit again with the same key to see a replay')
    .action(async (o: SubmitOptions) => {
      const companySize = o.companySize === undefined ? 0 : Number(o.companySize);
      if (!Number.isInteger(companySize) || companySize < 0) throw new UsageError(`--company-size must be a whole number of employees, got "${o.companySize}"`);
      const response = await ctx.client().intake.submitLead({
        ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
        contact: {
          email: o.email,
          firstName: o.firstName ?? '',
          lastName: o.lastName ?? '',
          company: o.company ?? '',
          jobTitle: o.jobTitle ?? '',
          country: o.country ?? '',
          companySize,
        },
        source: { formId: o.formId, utmSource: o.utmSource ?? '' },
        interest: { product: o.product ?? '', message: o.message ?? '' },
        consent: { emailMarketing: o.consent === true, wordingVersion: o.consent ? 'leadmesh-cli' : '' },
      });
      ctx.out.write(`${formatSubmitted(response)}\n`);
    });
}
