// `npm run suite`: the five services and the CRM simulator on the local infrastructure, one
// sample lead sent through, then it keeps running until Ctrl-C.
import { randomBytes } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { createClient } from '../../packages/platform/dist/index.js';
import { crmsync, intake } from '../../packages/contracts/dist/index.js';
import { startCrmSimulator } from '../fixtures/crm-simulator/index.ts';
import { startDemoSite } from '../../examples/demo-site/server.ts';
import { waitServing } from './health.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateSigningKey } from '../../packages/platform/dist/index.js';
import { allScopes, createStackAuth, grpcAddress, SERVICES, startStack, stopStack, ROOT } from './stack.ts';
import { CONSOLE_PASSWORD, CONSOLE_URL, CONSOLE_USERS, OIDC_ISSUER, OIDC_SERVICE_ENV, startConsole } from './console.ts';

const logDir = `${ROOT}/.cache/logs`;
// A local signing key, made once and kept in .cache/auth (git-ignored), so tokens survive restarts.
const authDir = `${ROOT}/.cache/auth`;
if (!existsSync(`${authDir}/signing.json`)) {
  mkdirSync(authDir, { recursive: true });
  writeFileSync(`${authDir}/signing.json`, JSON.stringify(await generateSigningKey()), { mode: 0o600 });
}
const auth = await createStackAuth(JSON.parse(readFileSync(`${authDir}/signing.json`, 'utf8')));
const devToken = await auth.token(await allScopes(), 'team:local-developer');
writeFileSync(`${authDir}/dev-token`, devToken, { mode: 0o600 });
const simulator = await startCrmSimulator({ port: 8090, salesforceClientId: 'leadmesh-local', salesforceClientSecret: 'local-simulator-secret', hubspotToken: 'local-simulator-token' });
// The demo website's public site key, bound to its origin: intake answers its tracker only there.
const DEMO_SITE_KEY = 'pk_demo_site_local';
const DEMO_SITE_PORT = 8081;
// The services also trust the local OpenID Connect provider's tokens, which the console forwards.
const services = startStack({ logDir, auth, env: { ...OIDC_SERVICE_ENV, TRACKER_SITE_KEYS: JSON.stringify({ [DEMO_SITE_KEY]: [`http://127.0.0.1:${DEMO_SITE_PORT}`] }) } });
const consoleProcesses = await startConsole({ logDir });
const demoSite = await startDemoSite({ port: DEMO_SITE_PORT, intakeUrl: 'http://127.0.0.1:8080', siteKey: DEMO_SITE_KEY, formToken: await auth.token(['leads:submit'], 'team:demo-site') });
const stop = async () => {
  console.log('\nstopping the services...');
  await consoleProcesses.stop();
  await stopStack(services);
  await demoSite.close();
  await simulator.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s), 90_000)));
console.log(`all five services are SERVING (logs in ${logDir})`);

const traceId = randomBytes(16).toString('hex');
const metadata = new Metadata();
metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
const client = createClient(intake.IntakeService, grpcAddress('intake'), { token: devToken });
const submitted = await client.submitLead(
  {
    idempotencyKey: `sample-${traceId}`,
    contact: { email: `grace.hopper+${traceId.slice(0, 6)}@example-analytics.com`, firstName: 'Grace', lastName: 'Hopper', company: 'Example Analytics', jobTitle: 'VP of Engineering', country: 'US', companySize: 1200 },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing', utmSource: 'google', utmCampaign: 'brand' },
    interest: { product: 'analytics', message: 'Please get in touch about a demo.' },
    consent: { emailMarketing: true, wordingVersion: '2026-01' },
  },
  { metadata },
);
console.log(`sample lead ${submitted.leadId} submitted`);

const crmSync = createClient(crmsync.CrmSyncService, grpcAddress('crm-sync'), { token: devToken });
for (let i = 0; i < 100; i++) {
  const { record } = await crmSync.getSyncStatus({ leadId: submitted.leadId }).catch(() => ({ record: undefined }));
  if (record?.status === crmsync.SyncStatus.SYNCED) {
    console.log(`in the CRM as ${record.crmId}, ${record.latencyMs} ms after intake received it`);
    break;
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`its trace:   http://127.0.0.1:16686/trace/${traceId}`);
console.log('Jaeger UI:   http://127.0.0.1:16686   Mailpit: http://127.0.0.1:8025   intake gRPC 127.0.0.1:50051, web form http://127.0.0.1:8080/v1/leads');
console.log(`a token with every scope: ${authDir}/dev-token   (grpcurl -H "authorization: Bearer $(cat .cache/auth/dev-token)" ...)`);
console.log(`console:     ${CONSOLE_URL}   (sign in at the local OpenID Connect provider ${OIDC_ISSUER}, password ${CONSOLE_PASSWORD})`);
console.log(`  ${CONSOLE_USERS.marketingOps}  marketing ops: leads, pipeline and replays, scoring rules, route previews`);
console.log(`  ${CONSOLE_USERS.salesOps}  sales ops: leads, owners and routing`);
console.log(`  ${CONSOLE_USERS.viewer}  viewer: leads and the pipeline, no actions`);
console.log(`  ${CONSOLE_USERS.privacy}  privacy: leads and erasure`);
console.log(`demo website with the browser tracker: ${demoSite.url} (accept the banner, visit Pricing, fill in Contact Sales; then journey <leadId> shows the visits)`);
console.log('running; Ctrl-C to stop');
setInterval(() => undefined, 60_000);
