// The console's lead search and journey against a large store (issue 15's performance target:
// search under 200 ms p99 over 100,000 stored leads). Stores N contacts straight into intake's
// database of its own namespace (one insertMany per 1,000, as intake stores them), starts intake on
// port offset 700 over the local FerretDB and NATS, and times SearchLeads over gRPC for each kind of
// query a marketer types, and GetLeadJourney of one stored lead (its other services absent, so the
// journey reports them unavailable: only intake's own part is timed). Contacts carry their search
// prefixes as intake stores them.
//
//   node bench/console-search.ts [leads=100000] [queries per kind=100]
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { createClient } from '../packages/platform/dist/index.js';
import { intake } from '../packages/contracts/dist/index.js';
import { searchPrefixes } from '../services/intake/dist/domain/lead-search.js';
import { waitServing } from '../test/harness/health.ts';
import { ROOT, createStackAuth, grpcAddress, startService, stopService } from '../test/harness/stack.ts';

const LEADS = Number(process.argv[2] ?? 100_000);
const QUERIES = Number(process.argv[3] ?? 100);
const NAMESPACE = 'benchsearch';
const OFFSET = 700;
const firstNames = ['Ada', 'Grace', 'Alan', 'Katherine', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Radia'];
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Backus', 'Perlman'];

function contact(i: number) {
  const firstName = firstNames[i % firstNames.length]!;
  const lastName = `${lastNames[Math.floor(i / 10) % lastNames.length]}${i % 1000}`;
  const email = `${firstName.toLowerCase()}.${lastName.toLowerCase()}.${i}@company-${i % 5000}.example.com`;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000);
  const profile = { contact: { email, firstName, lastName, company: `Company ${i % 5000} Holdings`, country: 'DE' } };
  return {
    _id: randomUUID(),
    emailKey: email,
    profile,
    searchPrefixes: searchPrefixes(profile),
    receivedAt: at,
    lastSubmittedAt: at,
    visitorIds: [],
  };
}

const conn = await mongoose.createConnection('mongodb://127.0.0.1:27017/', { dbName: `leadmesh_${NAMESPACE}_intake` }).asPromise();
const contacts = conn.collection('contacts');
const stored = await contacts.estimatedDocumentCount();
if (stored !== LEADS || !(await contacts.findOne({ searchPrefixes: { $exists: true } }))) {
  await contacts.deleteMany({});
  const started = Date.now();
  for (let i = 0; i < LEADS; i += 1000) await contacts.insertMany(Array.from({ length: Math.min(1000, LEADS - i) }, (_, k) => contact(i + k)));
  console.log(`stored ${LEADS} contacts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
const sample = (await contacts.find({}, { projection: { _id: 1, 'profile.contact': 1 } }).skip(Math.floor(LEADS / 2)).limit(1).toArray())[0]!;
await conn.close();

const auth = await createStackAuth();
const token = await auth.token(['leads:read'], 'team:bench');
const service = startService('intake', { namespace: NAMESPACE, portOffset: OFFSET, auth, logDir: `${ROOT}/.cache/logs/${NAMESPACE}` });
try {
  await waitServing(grpcAddress('intake', OFFSET), 120_000);
  const client = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { token, timeoutMs: 60_000 });
  const c = (sample.profile as { contact: { email: string; lastName: string; company: string } }).contact;
  const kinds: Record<string, (i: number) => string> = {
    'lead id': () => String(sample._id),
    'whole email': () => c.email,
    'email start': (i) => `${firstNames[i % 10]!.toLowerCase()}.${lastNames[i % 10]!.toLowerCase()}`,
    'last name': (i) => `${lastNames[i % 10]}${i % 1000}`,
    'company words': (i) => `company ${i % 5000} holdings`,
    'no match': (i) => `nobody${i}`,
    'newest (empty)': () => '',
  };
  const results: Record<string, { p50: number; p99: number; max: number; found: number }> = {};
  for (const [kind, query] of Object.entries(kinds)) {
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < QUERIES; i++) {
      const t0 = performance.now();
      const { leads } = await client.searchLeads({ query: query(i), pageSize: 20 });
      times.push(performance.now() - t0);
      found += leads.length;
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!);
    results[kind] = { p50: at(0.5), p99: at(0.99), max: Math.round(times.at(-1)!), found: Math.round(found / QUERIES) };
    console.log(`${kind.padEnd(16)} p50 ${String(results[kind].p50).padStart(6)} ms  p99 ${String(results[kind].p99).padStart(6)} ms  max ${String(results[kind].max).padStart(6)} ms  leads per answer ${results[kind].found}`);
  }
  const journey: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await client.getLeadJourney({ leadId: String(sample._id) });
    journey.push(performance.now() - t0);
  }
  journey.sort((a, b) => a - b);
  console.log(`journey (intake's part, others absent) p50 ${Math.round(journey[9]!)} ms  max ${Math.round(journey.at(-1)!)} ms`);
  client.close();
} finally {
  await stopService(service);
}
