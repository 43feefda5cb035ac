// Submit a Contact Sales lead to leadmesh, then follow its journey through the five services.
//
//   LEADMESH_TOKEN=... LEADMESH_INTAKE_ADDR=intake.example:443 LEADMESH_TLS=1 \
//     node examples/typescript/submit-and-journey.ts [email]
//
// Every LEADMESH_* variable is optional on a developer machine (the defaults are the local ports).
// Runs as is on Node 24 (type stripping); other teams import '@leadmesh/client' the same way.
import { readFileSync } from 'node:fs';
import { createLeadmeshClient, optionsFromEnv, readLeadJourney, type LeadJourney, type LeadmeshClient } from '@leadmesh/client';

const email = process.argv[2] ?? `ts-example.${Date.now()}@example-analytics.com`;
const waitMs = Number(process.env.EXAMPLE_WAIT_MS ?? 30_000);

const leadmesh = createLeadmeshClient(optionsFromEnv(process.env, (path) => readFileSync(path)));
try {
  const submitted = await leadmesh.intake.submitLead({
    contact: { email, firstName: 'Ada', lastName: 'Lovelace', company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'Germany', companySize: 800 },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing', utmSource: 'partner-portal' },
    interest: { product: 'analytics', message: 'Submitted by the TypeScript client example' },
    consent: { emailMarketing: true, wordingVersion: '2026-01' },
  });
  console.log(`lead ${submitted.leadId} submitted (outcome ${submitted.outcome})`);

  const journey = await journeyOnceInCrm(leadmesh, submitted.leadId);
  printTimeline(journey);
} finally {
  leadmesh.close();
}

/** The lead travels through the services in a few seconds; read its journey once the CRM has it. */
async function journeyOnceInCrm(client: LeadmeshClient, leadId: string): Promise<LeadJourney> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    // The one line that reads the journey. Today readLeadJourney asks each service (GetLead,
    // GetLeadScore, GetAssignment, GetEnrollments, GetSyncStatus); once intake serves
    // GetLeadJourney, readLeadJourney calls that instead and this line stays as it is.
    const journey = await readLeadJourney(client, leadId);
    const inCrm = journey.events.some((e) => e.service === 'crm-sync' && e.summary.startsWith('synced'));
    if (inCrm || Date.now() > deadline) return journey;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function printTimeline(journey: LeadJourney): void {
  console.log(`journey of lead ${journey.leadId}:`);
  for (const event of journey.events) {
    console.log(`  ${event.at?.toISOString() ?? '(pending)'}  ${event.service.padEnd(8)}  ${event.summary}`);
    for (const detail of event.details) console.log(`${' '.repeat(38)}- ${detail}`);
  }
  if (journey.notYet.length) console.log(`  not yet in: ${journey.notYet.join(', ')}`);
  for (const u of journey.unreachable) console.log(`  could not ask ${u.service}: ${u.error}`);
}
