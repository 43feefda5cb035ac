// The Contact Sales submissions the bench sends: every one a new lead, varied enough that scoring,
// routing and nurture take their usual paths rather than one cached branch.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { intake } from '../packages/contracts/dist/index.js';

type SubmitLeadInit = MessageInitShape<typeof intake.SubmitLeadRequestSchema>;

const people = [
  ['Ada', 'Lovelace', 'VP of Engineering'],
  ['Grace', 'Hopper', 'Director of Marketing'],
  ['Alan', 'Turing', 'Data Analyst'],
  ['Katherine', 'Johnson', 'Chief Technology Officer'],
  ['Edsger', 'Dijkstra', 'Software Engineer'],
] as const;
const countries = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA'];
const sizes = [8, 45, 120, 800, 2500, 12000];
const products = ['analytics', 'automation', 'platform'];

export function contactSalesLead(runId: string, i: number): SubmitLeadInit {
  const [firstName, lastName, jobTitle] = people[i % people.length]!;
  return {
    idempotencyKey: `bench-${runId}-${i}`,
    contact: {
      email: `${firstName.toLowerCase()}.${runId}.${i}@bench-${i % 97}.example.com`,
      firstName,
      lastName,
      company: `Bench Company ${i % 211}`,
      jobTitle,
      country: countries[i % countries.length]!,
      companySize: sizes[i % sizes.length]!,
    },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing', utmSource: i % 3 ? 'google' : 'linkedin', utmCampaign: 'bench' },
    interest: { product: products[i % products.length]!, message: 'Please get in touch about a demo.' },
    consent: { emailMarketing: i % 4 !== 0, wordingVersion: '2026-01' },
  };
}
