// A whole leadmesh stack in its own namespace with the CRM simulator (a test fixture) in-process,
// for crm-sync's stack tests. Every timing that defaults to minutes is shrunk through the environment.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { SUBJECTS, crmsync, events, intake, lead, nurture, routing, scoring } from '@leadmesh/contracts';
import { EventPublisher, NatsClient, createClient, createLogger, encodeEvent, topology } from '@leadmesh/platform';
import mongoose from 'mongoose';
import { startCrmSimulator, SIMULATOR_DEFAULTS, type CrmSimulator, type HubspotContact, type SalesforceLead } from '../../../test/fixtures/crm-simulator/index.ts';
import { eventually } from '../../../test/harness/eventually.ts';
import { waitServing } from '../../../test/harness/health.ts';
import { METRICS_PORTS, ROOT, SERVICES, grpcAddress, startService, stopService, type RunningService, TEST_NATS_URL } from '../../../test/harness/stack.ts';

const clientsOf = (portOffset: number) => ({
  intake: createClient(intake.IntakeService, grpcAddress('intake', portOffset), { timeoutMs: 10_000 }),
  // The test's own view of what the owning services hold, to compare the CRM record against.
  scoring: createClient(scoring.ScoringService, grpcAddress('scoring', portOffset), { timeoutMs: 10_000 }),
  routing: createClient(routing.RoutingService, grpcAddress('routing', portOffset), { timeoutMs: 10_000 }),
  nurture: createClient(nurture.NurtureService, grpcAddress('nurture', portOffset), { timeoutMs: 10_000 }),
  // Replay of all dead letters may take a while: it answers when the pass is done.
  crmSync: createClient(crmsync.CrmSyncService, grpcAddress('crm-sync', portOffset), { timeoutMs: 60_000 }),
});

export type CrmStack = ReturnType<typeof clientsOf> & {
  namespace: string;
  portOffset: number;
  sim: CrmSimulator;
  nats: NatsClient;
  stop(): Promise<void>;
  restart(name: (typeof SERVICES)[number], whileDown?: () => Promise<void>): Promise<void>;
};

/** Fast versions of crm-sync's patience: seconds instead of an hour of retries. */
export const FAST_CRM_ENV: Record<string, string> = {
  CRM_SYNC_MAX_DELIVER: '200',
  CRM_SYNC_BACKOFF_MS: '200,500,1000,1500',
  CRM_REQUEST_TIMEOUT_MS: '2000',
  CRM_RETRY_MAX_ATTEMPTS: '3',
  CRM_RETRY_INITIAL_DELAY_MS: '50',
  CRM_RETRY_MAX_DELAY_MS: '200',
  CRM_BREAKER_THRESHOLD: '5',
  CRM_BREAKER_HALF_OPEN_AFTER_MS: '1000',
  CRM_RATE_LIMIT_DEFAULT_PAUSE_MS: '500',
  CRM_RATE_LIMIT_MAX_WAIT_MS: '5000',
};

/** Clears what an earlier run of the same namespace left (streams, consumers, databases). */
async function freshNamespace(namespace: string): Promise<NatsClient> {
  const nats = new NatsClient(TEST_NATS_URL, 'crm-sync-test', createLogger('test', 'silent'), topology(namespace));
  nats.start();
  await nats.ready();
  for (const stream of [nats.topology.pipelineStream, nats.topology.deadLetterStream]) {
    await nats.jsm.streams.delete(stream).catch(() => false);
  }
  const conn = await mongoose.createConnection('mongodb://127.0.0.1:27017/').asPromise();
  try {
    for (const service of SERVICES) {
      await conn.useDb(`leadmesh_${namespace.replace(/-/g, '_')}_${service.replace(/-/g, '_')}`).dropDatabase();
    }
  } finally {
    await conn.close();
  }
  return nats;
}

/**
 * crm-sync with no route to the other services' gRPC APIs (a port nothing listens on): it must do
 * its work from the pipeline's events alone.
 */
export const CRM_SYNC_WITHOUT_PEERS: Record<string, string> = Object.fromEntries(
  SERVICES.filter((s) => s !== 'crm-sync').map((s) => [`${s.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`, '127.0.0.1:9']),
);

export async function startCrmStack(
  namespace: string,
  portOffset: number,
  env: Record<string, string> = {},
  crmSyncEnv: Record<string, string> = CRM_SYNC_WITHOUT_PEERS,
  /** More variables for one service only (after the others). */
  serviceEnv: Partial<Record<(typeof SERVICES)[number], Record<string, string>>> = {},
): Promise<CrmStack> {
  const nats = await freshNamespace(namespace);
  const sim = await startCrmSimulator({ port: 8090 + portOffset });
  const options = (name: (typeof SERVICES)[number]) => ({
    namespace,
    portOffset,
    logDir: join(ROOT, '.cache', 'logs', namespace),
    env: {
      CRM_PROVIDER: 'salesforce',
      SALESFORCE_LOGIN_URL: sim.url,
      SALESFORCE_CLIENT_ID: SIMULATOR_DEFAULTS.salesforceClientId,
      SALESFORCE_CLIENT_SECRET: SIMULATOR_DEFAULTS.salesforceClientSecret,
      HUBSPOT_BASE_URL: sim.url,
      HUBSPOT_TOKEN: SIMULATOR_DEFAULTS.hubspotToken,
      ...FAST_CRM_ENV,
      ...env,
      ...(name === 'crm-sync' ? crmSyncEnv : {}),
      ...serviceEnv[name],
    },
  });
  const services: RunningService[] = SERVICES.map((name) => startService(name, options(name)));
  const clients = clientsOf(portOffset);
  const stop = async () => {
    for (const client of [clients.intake, clients.scoring, clients.routing, clients.nurture, clients.crmSync]) client.close();
    await Promise.all(services.map((s) => stopService(s)));
    await sim.close();
    await nats.close();
  };
  try {
    await Promise.all(SERVICES.map((s) => waitServing(grpcAddress(s, portOffset), 90_000)));
  } catch (err) {
    await stop();
    throw err;
  }
  /** Stops one service and starts it again as it was (a deploy, a crash), SERVING again when it returns. */
  const restart = async (name: (typeof SERVICES)[number], whileDown: () => Promise<void> = async () => {}) => {
    const at = SERVICES.indexOf(name);
    await stopService(services[at]!);
    await whileDown();
    services[at] = startService(name, options(name));
    await waitServing(grpcAddress(name, portOffset), 90_000);
  };
  const stack = { ...clients, namespace, portOffset, sim, nats, stop, restart };
  try {
    // SERVING comes before every store has connected; one lead end to end shows the pipeline is up.
    const { leadId } = await submitLead(stack, 'warm-up');
    await syncedRecord(stack, leadId, 90_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return stack;
}

/** A Contact Sales lead with a unique email; returns its lead id. */
export async function submitLead(stack: CrmStack, tag: string, extra: { jobTitle?: string; utmCampaign?: string; campaignId?: string; domain?: string } = {}): Promise<{ leadId: string; email: string }> {
  const id = randomUUID().slice(0, 8);
  const email = `${tag}.${id}@${extra.domain ?? 'example-analytics.com'}`;
  const { leadId } = await stack.intake.submitLead({
    idempotencyKey: `${tag}-${id}`,
    contact: { email, firstName: 'Ada', lastName: `Lovelace ${id}`, company: 'Example Analytics', jobTitle: extra.jobTitle ?? 'VP of Engineering', country: 'Germany', companySize: 800 },
    source: { formId: 'contact-sales', pageUrl: 'https://www.example.com/pricing', utmSource: 'google', utmMedium: 'cpc', utmCampaign: extra.utmCampaign ?? 'spring', campaignId: extra.campaignId ?? '' },
    interest: { product: 'analytics', message: 'We need a demo' },
    consent: { emailMarketing: true, wordingVersion: '2026-01' },
  });
  return { leadId, email };
}

export const recordsOf = (sim: CrmSimulator, leadId: string): SalesforceLead[] =>
  sim.records('salesforce').filter((r) => r.Leadmesh_Lead_Id__c === leadId);

export const contactsOf = (sim: CrmSimulator, leadId: string): HubspotContact[] =>
  sim.records('hubspot').filter((c) => c.properties.leadmesh_lead_id === leadId);

/**
 * A rep's edit in the CRM, through the CRM's own REST API as the CRM's UI or another integration
 * writes it (Salesforce PATCH /sobjects/Lead/{Id}, HubSpot PATCH /crm/v3/objects/contacts/{id}).
 */
export async function editAsSales(sim: CrmSimulator, crm: 'salesforce' | 'hubspot', crmId: string, fields: Record<string, unknown>): Promise<void> {
  let response: Response;
  if (crm === 'salesforce') {
    const token = await fetch(`${sim.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SIMULATOR_DEFAULTS.salesforceClientId, client_secret: SIMULATOR_DEFAULTS.salesforceClientSecret }).toString(),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    response = await fetch(`${sim.url}/services/data/v62.0/sobjects/Lead/${crmId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
  } else {
    response = await fetch(`${sim.url}/crm/v3/objects/contacts/${crmId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${SIMULATOR_DEFAULTS.hubspotToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: fields }),
    });
  }
  if (!response.ok) throw new Error(`the rep's edit was refused: ${response.status} ${await response.text()}`);
}

/**
 * An account created (no `accountId`) or edited by sales through the CRM's own REST API: Salesforce
 * POST/PATCH /sobjects/Account, HubSpot POST/PATCH /crm/v3/objects/companies. Returns the account's id.
 */
export async function accountAsSales(sim: CrmSimulator, crm: 'salesforce' | 'hubspot', fields: Record<string, unknown>, accountId?: string): Promise<string> {
  let response: Response;
  if (crm === 'salesforce') {
    const token = await fetch(`${sim.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SIMULATOR_DEFAULTS.salesforceClientId, client_secret: SIMULATOR_DEFAULTS.salesforceClientSecret }).toString(),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    response = await fetch(`${sim.url}/services/data/v62.0/sobjects/Account${accountId ? `/${accountId}` : ''}`, {
      method: accountId ? 'PATCH' : 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
  } else {
    response = await fetch(`${sim.url}/crm/v3/objects/companies${accountId ? `/${accountId}` : ''}`, {
      method: accountId ? 'PATCH' : 'POST',
      headers: { authorization: `Bearer ${SIMULATOR_DEFAULTS.hubspotToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: fields }),
    });
  }
  if (!response.ok) throw new Error(`the account write was refused: ${response.status} ${await response.text()}`);
  if (accountId) return accountId;
  return ((await response.json()) as { id: string }).id;
}

/** crm-sync's Prometheus text, to read its counters. */
export async function crmSyncMetrics(stack: CrmStack): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${METRICS_PORTS['crm-sync'] + stack.portOffset}/metrics`);
  return response.text();
}

/** The value of one counter series, 0 when it has not been counted yet. */
export function counterValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A lead.reassigned as routing publishes it: the lead as routing holds it, with another owner. */
export async function reassignTo(stack: CrmStack, leadId: string, owner: { ownerId: string; name: string; email?: string; crmUserIds?: { salesforceUserId: string; hubspotOwnerId: string } }): Promise<void> {
  const occurredAt = timestampFromDate(new Date());
  const { assignment } = await stack.routing.getAssignment({ leadId });
  const { score } = await stack.scoring.getLeadScore({ leadId });
  const { lead: stored } = await stack.intake.getLead({ leadId });
  await new EventPublisher(stack.nats).publish(
    encodeEvent(SUBJECTS.leadReassigned, events.LeadReassignedSchema, {
      eventId: randomUUID(),
      leadId,
      occurredAt,
      profile: stored!.profile,
      score: score!,
      assignment: {
        ...assignment!,
        ownerId: owner.ownerId,
        ownerName: owner.name,
        ownerEmail: owner.email ?? '',
        // A message of its own: the spread assignment is a message already, so its fields are not
        // converted from plain objects; routing's OwnerCrmUsers is another type than CrmUserIds.
        ownerCrmUserIds: create(lead.CrmUserIdsSchema, { salesforceUserId: owner.crmUserIds?.salesforceUserId ?? '', hubspotOwnerId: owner.crmUserIds?.hubspotOwnerId ?? '' }),
        assignedAt: occurredAt,
      },
      previousOwnerId: assignment!.ownerId,
    }),
  );
}

export { eventually };

export async function syncedRecord(stack: CrmStack, leadId: string, timeoutMs = 30_000): Promise<crmsync.SyncRecord> {
  return eventually(`lead ${leadId} synced`, async () => {
    const { record } = await stack.crmSync.getSyncStatus({ leadId });
    return record?.status === crmsync.SyncStatus.SYNCED ? record : undefined;
  }, timeoutMs);
}

/** The lead's campaign memberships and their steps in its journey, once crm-sync recorded `count` of them. */
export async function campaignPart(stack: CrmStack, leadId: string, count = 1) {
  const record = await eventually(`${count} campaign membership(s) of lead ${leadId}`, async () => {
    const { record } = await stack.crmSync.getSyncStatus({ leadId });
    return record && record.campaignMemberships.length >= count ? record : undefined;
  });
  const journey = await stack.intake.getLeadJourney({ leadId });
  return { record, steps: journey.steps.filter((s) => s.service === 'crm-sync').map((s) => s.summary) };
}
