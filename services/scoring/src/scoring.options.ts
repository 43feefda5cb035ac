import { defaultRulesDir } from './rules/rule-set-files.js';

/** Scoring's own settings, from the environment. Times are short in tests and a few seconds in production. */
export interface ScoringOptions {
  rulesDir: string;
  /** The version to activate when the store has none yet; default the newest file. */
  initialActiveVersion?: string;
  /** How often each replica re-reads the active version from the store. */
  settingsRefreshMs: number;
  /** Leads rescored per batch; progress is recorded after each. */
  rescoreBatchSize: number;
  /** Pause between batches, leaving the store to new leads during a large rescore. */
  rescorePauseMs: number;
  /** How often each replica looks for a rescore job nobody runs. */
  rescorePollMs: number;
  /** How long a claimed job stays with its replica without progress before another may take it over. */
  rescoreLeaseMs: number;
}

export const SCORING_OPTIONS = Symbol('scoring.options');

export function loadScoringOptions(env: NodeJS.ProcessEnv = process.env): ScoringOptions {
  const options: ScoringOptions = {
    rulesDir: env.SCORING_RULES_DIR || defaultRulesDir(),
    settingsRefreshMs: int(env, 'SCORING_SETTINGS_REFRESH_MS', 5000, 1),
    rescoreBatchSize: int(env, 'SCORING_RESCORE_BATCH_SIZE', 100, 1),
    rescorePauseMs: int(env, 'SCORING_RESCORE_PAUSE_MS', 0, 0),
    rescorePollMs: int(env, 'SCORING_RESCORE_POLL_MS', 2000, 1),
    rescoreLeaseMs: int(env, 'SCORING_RESCORE_LEASE_MS', 30_000, 1),
  };
  if (env.SCORING_ACTIVE_RULE_SET) options.initialActiveVersion = env.SCORING_ACTIVE_RULE_SET;
  return options;
}

function int(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${key} must be an integer of at least ${min}, got "${raw}"`);
  return value;
}
