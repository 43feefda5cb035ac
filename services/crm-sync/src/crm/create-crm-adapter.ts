// Which CRM, where, and how patiently: all from the environment, so DEV and QA point at the
// simulator and STAGE and PROD at the real CRM without a code change. Secrets are read here and
// kept in the adapters' private fields; nothing in this module logs.
import type { CrmName, CrmPort } from './crm-port.js';
import type { FetchLike } from './http.js';
import { HubspotAdapter, type HubspotOptions } from './hubspot.adapter.js';
import { DEFAULT_RESILIENCE, type CrmEventListener, type ResilienceOptions } from './resilience.js';
import { SalesforceAdapter, type SalesforceOptions } from './salesforce.adapter.js';

type Env = Record<string, string | undefined>;

export interface AdapterHooks {
  fetch?: FetchLike;
  onEvent?: CrmEventListener;
}

export function crmProviderFromEnv(env: Env): CrmName {
  const provider = env.CRM_PROVIDER ?? 'salesforce';
  if (provider !== 'salesforce' && provider !== 'hubspot') {
    throw new Error(`CRM_PROVIDER must be "salesforce" or "hubspot", got "${provider}"`);
  }
  return provider;
}

export function resilienceFromEnv(env: Env): ResilienceOptions {
  const d = DEFAULT_RESILIENCE;
  return {
    requestTimeoutMs: int(env, 'CRM_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 1),
    retryMaxAttempts: int(env, 'CRM_RETRY_MAX_ATTEMPTS', d.retryMaxAttempts, 1),
    retryInitialDelayMs: int(env, 'CRM_RETRY_INITIAL_DELAY_MS', d.retryInitialDelayMs),
    retryMaxDelayMs: int(env, 'CRM_RETRY_MAX_DELAY_MS', d.retryMaxDelayMs),
    breakerThreshold: int(env, 'CRM_BREAKER_THRESHOLD', d.breakerThreshold, 1),
    breakerHalfOpenAfterMs: int(env, 'CRM_BREAKER_HALF_OPEN_AFTER_MS', d.breakerHalfOpenAfterMs),
    rateLimitDefaultPauseMs: int(env, 'CRM_RATE_LIMIT_DEFAULT_PAUSE_MS', d.rateLimitDefaultPauseMs),
    rateLimitMaxWaitMs: int(env, 'CRM_RATE_LIMIT_MAX_WAIT_MS', d.rateLimitMaxWaitMs),
    rateLimitMaxRetries: int(env, 'CRM_RATE_LIMIT_MAX_RETRIES', d.rateLimitMaxRetries),
  };
}

export function salesforceOptionsFromEnv(env: Env, hooks: AdapterHooks = {}): SalesforceOptions {
  return {
    loginUrl: env.SALESFORCE_LOGIN_URL ?? 'https://login.salesforce.com',
    clientId: required(env, 'SALESFORCE_CLIENT_ID'),
    clientSecret: required(env, 'SALESFORCE_CLIENT_SECRET'),
    apiVersion: env.SALESFORCE_API_VERSION ?? '62.0',
    externalIdField: env.SALESFORCE_EXTERNAL_ID_FIELD ?? 'Leadmesh_Lead_Id__c',
    // Off by default: mapping v2 sets OwnerId to the routed owner, which an assignment rule would override.
    autoAssign: bool(env, 'SALESFORCE_AUTO_ASSIGN', false),
    tokenTtlMs: int(env, 'SALESFORCE_TOKEN_TTL_MS', 30 * 60_000, 1),
    batchSize: int(env, 'SALESFORCE_BATCH_SIZE', 200, 1),
    resilience: resilienceFromEnv(env),
    ...hooks,
  };
}

export function hubspotOptionsFromEnv(env: Env, hooks: AdapterHooks = {}): HubspotOptions {
  return {
    baseUrl: env.HUBSPOT_BASE_URL ?? 'https://api.hubapi.com',
    token: required(env, 'HUBSPOT_TOKEN'),
    leadIdProperty: env.HUBSPOT_LEAD_ID_PROPERTY ?? 'leadmesh_lead_id',
    batchSize: int(env, 'HUBSPOT_BATCH_SIZE', 100, 1),
    burstLimit: int(env, 'HUBSPOT_BURST_LIMIT', 100, 1),
    burstWindowMs: int(env, 'HUBSPOT_BURST_WINDOW_MS', 10_000, 1),
    dailyLimit: int(env, 'HUBSPOT_DAILY_LIMIT', 250_000, 1),
    dailyResetUtcOffsetMinutes: int(env, 'HUBSPOT_DAILY_RESET_UTC_OFFSET_MINUTES', 0, -14 * 60),
    resilience: resilienceFromEnv(env),
    ...hooks,
  };
}

/** The adapter CRM_PROVIDER names, configured from the same environment. */
export function createCrmAdapter(env: Env = process.env, hooks: AdapterHooks = {}): CrmPort {
  return crmProviderFromEnv(env) === 'hubspot'
    ? new HubspotAdapter(hubspotOptionsFromEnv(env, hooks))
    : new SalesforceAdapter(salesforceOptionsFromEnv(env, hooks));
}

function required(env: Env, key: string): string {
  const value = env[key];
  if (value === undefined || value.trim() === '') throw new Error(`${key} is required for the configured CRM`);
  return value;
}

function int(env: Env, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${key} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${key} must be true or false, got "${env[key]}"`);
}
