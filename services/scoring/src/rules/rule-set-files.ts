import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { compareRuleSetVersions, parseRuleSet, type RuleSet } from '../domain/rule-set.js';

/**
 * services/scoring/rules. This module lives at src/rules/ in development and dist/rules/ once built,
 * both two levels below the package root, so the same relative URL works from either.
 */
export function defaultRulesDir(): string {
  return fileURLToPath(new URL('../../rules/', import.meta.url));
}

/**
 * Reads and validates every *.yaml rule set in a directory, oldest version first. Fails on the first
 * bad file, naming it: the service must not start with a rule set it cannot explain.
 */
export function loadRuleSetFiles(dir: string): RuleSet[] {
  return readRuleSetFiles(dir).map((file) => file.ruleSet);
}

/** A rule-set file: its validated rule set and its text, which is what gets stored and published. */
export interface RuleSetFile {
  path: string;
  document: string;
  ruleSet: RuleSet;
}

/** As loadRuleSetFiles, keeping each file's text and path. */
export function readRuleSetFiles(dir: string): RuleSetFile[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
  const byVersion = new Map<string, string>();
  const ruleSets = files.map((name): RuleSetFile => {
    const path = join(dir, name);
    const document = readFileSync(path, 'utf8');
    const ruleSet = parseRuleSet(readYaml(path, document), path);
    // The file name is how people find a version in Git, so it must start with the version it holds
    // (a descriptive suffix is allowed: 2026-11-15.1-pricing-push.yaml).
    const stem = basename(name, '.yaml');
    if (stem !== ruleSet.version && !stem.startsWith(`${ruleSet.version}-`)) {
      throw new Error(`${path}: version "${ruleSet.version}" does not match the file name; name it ${ruleSet.version}.yaml`);
    }
    const earlier = byVersion.get(ruleSet.version);
    if (earlier) throw new Error(`${path}: version "${ruleSet.version}" is already defined in ${earlier}`);
    byVersion.set(ruleSet.version, path);
    return { path, document, ruleSet };
  });
  return ruleSets.sort((a, b) => compareRuleSetVersions(a.ruleSet.version, b.ruleSet.version));
}

function readYaml(path: string, text: string): unknown {
  try {
    return parse(text, { uniqueKeys: true });
  } catch (error) {
    throw new Error(`${path}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
