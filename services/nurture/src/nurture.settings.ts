// Nurture's own settings, from the environment. Time settings exist so a test stack can make
// "day 3" pass in seconds; production leaves them at their defaults.
import { senderDomain } from './domain/delivery.js';

export const NURTURE_SETTINGS = Symbol('nurture.settings');

export interface NurtureSettings {
  smtpUrl: string;
  from: string;
  /** Host part of `from`, used in Message-IDs. */
  fromDomain: string;
  /** Base of the unsubscribe links in emails: where this service's HTTP door is reachable. */
  publicUrl: string;
  unsubscribeSecret: string;
  schedulerIntervalMs: number;
  /** Multiplies every step delay and retry delay; 1 in production. */
  delayScale: number;
  /** How long a replica holds a claimed step; longer than the slowest SMTP conversation. */
  leaseMs: number;
  maxSendAttempts: number;
  batchSize: number;
}

function positive(env: NodeJS.ProcessEnv, key: string, fallback: number, integer = true): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new Error(`${key} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  }
  return value;
}

export function loadNurtureSettings(env: NodeJS.ProcessEnv = process.env): NurtureSettings {
  const unsubscribeSecret = env.UNSUBSCRIBE_SECRET ?? '';
  // No default: a guessable secret would let anyone unsubscribe anyone.
  if (Buffer.byteLength(unsubscribeSecret) < 16) throw new Error('UNSUBSCRIBE_SECRET must be set to at least 16 bytes (it signs unsubscribe links)');
  const from = env.NURTURE_FROM || 'leadmesh <hello@leadmesh.example>';
  let fromDomain: string;
  try {
    fromDomain = senderDomain(from);
  } catch (err) {
    throw new Error(`NURTURE_FROM: ${(err as Error).message}`);
  }
  const publicUrl = (env.NURTURE_PUBLIC_URL || 'http://127.0.0.1:8084').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(publicUrl)) throw new Error(`NURTURE_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  return {
    smtpUrl: env.SMTP_URL || 'smtp://127.0.0.1:1025',
    from,
    fromDomain,
    publicUrl,
    unsubscribeSecret,
    schedulerIntervalMs: positive(env, 'NURTURE_SCHEDULER_INTERVAL_MS', 5000),
    delayScale: positive(env, 'NURTURE_DELAY_SCALE', 1, false),
    leaseMs: positive(env, 'NURTURE_LEASE_MS', 120_000),
    maxSendAttempts: positive(env, 'NURTURE_MAX_SEND_ATTEMPTS', 6),
    batchSize: positive(env, 'NURTURE_SCHEDULER_BATCH', 50),
  };
}
