import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  checkRoutingConsistency,
  parseAccountOwners,
  parseOwnerDirectory,
  parseRoutingConfig,
  type Owner,
  type RoutingRuleSet,
  type Team,
} from '../domain/index.js';

export interface RoutingConfig {
  ruleSet: RoutingRuleSet;
  owners: Owner[];
  teams: Team[];
  accountOwners: Map<string, string>;
  /** Each seed file's own version, so the seeder can tell what it last applied. */
  versions: { rules: string; owners: string; accounts: string };
}

export const ROUTING_CONFIG_FILES = { rules: 'routing-rules.yaml', owners: 'owners.yaml', accounts: 'accounts.yaml' } as const;

/** services/routing/config, found from this module so it works from both src/ and dist/. */
export function defaultConfigDir(): string {
  return fileURLToPath(new URL('../../config/', import.meta.url));
}

function readYaml<T>(dir: string, file: string, parseContent: (raw: unknown) => T): T {
  const path = join(dir, file);
  try {
    return parseContent(parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads and validates the routing seed files; errors name the file and the path inside it. */
export function loadRoutingConfig(dir: string = defaultConfigDir()): RoutingConfig {
  const ruleSet = readYaml(dir, ROUTING_CONFIG_FILES.rules, parseRoutingConfig);
  const directory = readYaml(dir, ROUTING_CONFIG_FILES.owners, parseOwnerDirectory);
  const accounts = readYaml(dir, ROUTING_CONFIG_FILES.accounts, parseAccountOwners);
  const config = { ruleSet, owners: directory.owners, teams: directory.teams, accountOwners: accounts.accountOwners };
  try {
    checkRoutingConsistency(config);
  } catch (err) {
    throw new Error(`${dir}: ${(err as Error).message}`, { cause: err });
  }
  return { ...config, versions: { rules: ruleSet.version, owners: directory.version, accounts: accounts.version } };
}
