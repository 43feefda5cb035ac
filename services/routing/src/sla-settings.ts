/** SLA timing from the environment, so drills and tests can run the clock in seconds. */
export interface SlaSettings {
  /** Replaces every team's SLA when set (ROUTING_SLA_SECONDS). */
  overrideSeconds?: number;
  /** How often each replica looks for leads past their SLA (ROUTING_SLA_SCAN_MS). */
  scanIntervalMs: number;
  /** How long a replica holds a claimed re-route before another may take it over (ROUTING_SLA_LEASE_MS). */
  leaseMs: number;
}

function positive(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`${key} must be a positive number, got "${raw}"`);
  return value;
}

export function loadSlaSettings(env: NodeJS.ProcessEnv = process.env): SlaSettings {
  const settings: SlaSettings = {
    scanIntervalMs: positive(env, 'ROUTING_SLA_SCAN_MS') ?? 15_000,
    leaseMs: positive(env, 'ROUTING_SLA_LEASE_MS') ?? 30_000,
  };
  const override = positive(env, 'ROUTING_SLA_SECONDS');
  if (override !== undefined) settings.overrideSeconds = override;
  return settings;
}

export const SLA_SETTINGS = Symbol('routing.sla-settings');
