// What one lead costs each service, counted over one phase of the run rather than estimated: the
// store commands the driver sent (each service's leadmesh_store_commands_total), the gRPC calls
// each service served, and process CPU time from /proc/<pid>/stat. The same services' rate while
// idle, measured just before the phase, is subtracted, so periodic work (relays, sweeps, metrics)
// is not charged to the leads.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { JetStreamManager } from '@nats-io/jetstream';
import { METRICS_PORTS, type RunningService, type Service } from '../test/harness/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The only RPC the load generator calls: every other call a service serves during the phase is cross-service. */
export const PIPELINE_ENTRY_RPC = 'IntakeService/SubmitLead';

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU time of the whole process (every thread), in ms; resolution one clock tick. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields that follow start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 (utime) and 15 (stime) of proc(5), here counted from field 3.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

interface ServiceSnapshot {
  cpuMs?: number;
  /** "command collection" -> commands sent since the service started. */
  commands: Record<string, number>;
  /** method -> calls served since the service started. */
  rpcs: Record<string, number>;
  error?: string;
}

interface Snapshot {
  at: number;
  services: Partial<Record<Service, ServiceSnapshot>>;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

/** The two families the accounting needs, from a service's Prometheus text. */
export function parseServiceMetrics(body: string): Pick<ServiceSnapshot, 'commands' | 'rpcs'> {
  const commands: Record<string, number> = {};
  const rpcs: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const m = /^(leadmesh_store_commands_total|leadmesh_rpc_duration_seconds_count)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = parseLabels(m[2]!);
    const value = Number(m[3]);
    if (m[1] === 'leadmesh_store_commands_total') {
      const key = `${labels.command} ${labels.collection || '-'}`;
      commands[key] = (commands[key] ?? 0) + value;
    } else {
      rpcs[labels.method!] = (rpcs[labels.method!] ?? 0) + value;
    }
  }
  return { commands, rpcs };
}

async function snapshot(services: RunningService[], portOffset: number): Promise<Snapshot> {
  const at = Date.now();
  const entries = await Promise.all(
    services.map(async (s): Promise<[Service, ServiceSnapshot]> => {
      const cpuMs = cpuMsOf(s.process.pid);
      try {
        const res = await fetch(`http://127.0.0.1:${METRICS_PORTS[s.name] + portOffset}/metrics`, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) return [s.name, { cpuMs, commands: {}, rpcs: {}, error: `/metrics answered ${res.status}` }];
        return [s.name, { cpuMs, ...parseServiceMetrics(await res.text()) }];
      } catch (err) {
        return [s.name, { cpuMs, commands: {}, rpcs: {}, error: `/metrics: ${(err as Error).message}` }];
      }
    }),
  );
  return { at, services: Object.fromEntries(entries) };
}

/**
 * Waits until every durable consumer of the stream has nothing pending or unacknowledged, then a
 * little longer for the work that follows an ack (an outbox publish, a due nurture step).
 */
export async function waitQuiet(jsm: JetStreamManager, stream: string, timeoutMs: number, settleMs = 1500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let busy = 0;
    try {
      for await (const c of jsm.consumers.list(stream)) busy += c.num_pending + c.num_ack_pending;
    } catch {
      busy = 1;
    }
    if (busy === 0) {
      await sleep(settleMs);
      return true;
    }
    await sleep(250);
  }
  return false;
}

const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

export interface ServiceCost {
  /** Store commands per lead, the idle rate subtracted. */
  storeCalls: number;
  /** The same before subtracting the idle rate. */
  storeCallsRaw: number;
  /** "command collection" -> commands per lead (raw: the idle rate is not split by command). */
  storeCallsBy: Record<string, number>;
  /** Process CPU ms per lead (user + system, every thread), the idle rate subtracted. */
  cpuMs?: number;
  cpuMsRaw?: number;
  idle: { storeCallsPerSecond: number; cpuMsPerSecond?: number };
  /** gRPC calls this service served during the phase (totals, not per lead). */
  rpcsServed: Record<string, number>;
  error?: string;
}

export interface LeadCost {
  phase: string;
  /** Leads sent in the phase (warm-up included: their work is inside the counted window too). */
  leads: number;
  completed: number;
  seconds: number;
  idleSeconds: number;
  /** Every consumer had drained when the closing snapshot was taken. */
  drained: boolean;
  /** Drained and every lead sent was synced: only then is a per-lead figure a lead's cost. */
  complete: boolean;
  services: Partial<Record<Service, ServiceCost>>;
  storeCallsPerLead: number;
  cpuMsPerLead?: number;
  /** gRPC calls served by the five during the phase other than the load generator's SubmitLead. */
  crossServiceRpcs: number;
  crossServiceRpcsPerLead: number;
}

export interface CostPhase<T> {
  services: RunningService[];
  portOffset: number;
  jsm: JetStreamManager;
  /** The pipeline stream, drained before the idle window and after the phase. */
  stream: string;
  phase: string;
  idleMs: number;
  /** Called at the end of the idle window, just before the leads are sent. */
  onIdle?: () => void;
  run: () => Promise<T & { sent: number; completed: number }>;
}

/** Counts what the five services spend on the leads `run` sends, against an idle window just before. */
export async function measureLeadCost<T>({ services, portOffset, jsm, stream, phase, idleMs, onIdle, run }: CostPhase<T>): Promise<{ cost: LeadCost; result: T & { sent: number; completed: number } }> {
  await waitQuiet(jsm, stream, 60_000);
  const idleFrom = await snapshot(services, portOffset);
  await sleep(idleMs);
  const from = await snapshot(services, portOffset);
  onIdle?.();
  const result = await run();
  const { sent, completed } = result;
  const drained = await waitQuiet(jsm, stream, 60_000);
  const to = await snapshot(services, portOffset);
  const idleSeconds = (from.at - idleFrom.at) / 1000;
  const seconds = (to.at - from.at) / 1000;
  const leads = Math.max(1, sent);
  const costs: Partial<Record<Service, ServiceCost>> = {};
  let crossServiceRpcs = 0;
  for (const s of services) {
    const i = idleFrom.services[s.name]!;
    const a = from.services[s.name]!;
    const b = to.services[s.name]!;
    const idleCommands = (sumOf(a.commands) - sumOf(i.commands)) / idleSeconds;
    const commands = sumOf(b.commands) - sumOf(a.commands);
    const idleCpu = a.cpuMs !== undefined && i.cpuMs !== undefined ? (a.cpuMs - i.cpuMs) / idleSeconds : undefined;
    const cpu = b.cpuMs !== undefined && a.cpuMs !== undefined ? b.cpuMs - a.cpuMs : undefined;
    const rpcsServed = delta(b.rpcs, a.rpcs);
    for (const [method, n] of Object.entries(rpcsServed)) if (method !== PIPELINE_ENTRY_RPC) crossServiceRpcs += n;
    costs[s.name] = {
      storeCalls: round(Math.max(0, commands - idleCommands * seconds) / leads),
      storeCallsRaw: round(commands / leads),
      storeCallsBy: Object.fromEntries(Object.entries(delta(b.commands, a.commands)).map(([k, v]) => [k, round(v / leads)])),
      cpuMs: cpu === undefined || idleCpu === undefined ? undefined : round(Math.max(0, cpu - idleCpu * seconds) / leads),
      cpuMsRaw: cpu === undefined ? undefined : round(cpu / leads),
      idle: { storeCallsPerSecond: round(idleCommands), cpuMsPerSecond: idleCpu === undefined ? undefined : round(idleCpu) },
      rpcsServed,
      error: [i.error, a.error, b.error].find(Boolean),
    };
  }
  const all = Object.values(costs);
  const cpus = all.map((c) => c.cpuMs);
  return {
    result,
    cost: {
      phase,
      leads: sent,
      completed,
      seconds: round(seconds, 1),
      idleSeconds: round(idleSeconds, 1),
      drained,
      complete: drained && completed === sent && sent > 0,
      services: costs,
      storeCallsPerLead: round(all.reduce((a, c) => a + c.storeCalls, 0)),
      cpuMsPerLead: cpus.every((c) => c !== undefined) ? round(cpus.reduce((a, c) => a + c!, 0)) : undefined,
      crossServiceRpcs,
      crossServiceRpcsPerLead: round(crossServiceRpcs / leads),
    },
  };
}
