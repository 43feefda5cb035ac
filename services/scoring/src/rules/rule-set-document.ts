import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { parseRuleSet, RuleSetError, type RuleSet } from '../domain/rule-set.js';

/** The path and problem of one issue in a rule-set document, e.g. "fit.seniority[0].points". */
export interface RuleSetIssue {
  path: string;
  problem: string;
}

/**
 * Reads a rule set from its YAML text, as a file in the repo or a published document. Duplicate keys
 * are errors: a second `points:` silently winning is exactly the kind of mistake review misses.
 */
export function readRuleSetDocument(text: string, source?: string): RuleSet {
  let raw: unknown;
  try {
    raw = parse(text, { uniqueKeys: true });
  } catch (error) {
    const message = (error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)).replace(/:\s*$/, '');
    throw new RuleSetError([`(document): not valid YAML: ${message}`], source);
  }
  return parseRuleSet(raw, source);
}

/** Splits RuleSetError issues ("path: problem") so the gRPC edge can name each bad field. */
export function ruleSetIssues(error: RuleSetError): RuleSetIssue[] {
  return error.issues.map((issue) => {
    const at = issue.indexOf(': ');
    return at < 0 ? { path: '(document)', problem: issue } : { path: issue.slice(0, at), problem: issue.slice(at + 2) };
  });
}

/**
 * The rule set's meaning as one string: keys sorted, comments and layout gone. Two documents with
 * the same canonical form score every lead the same, so re-publishing one is not a conflict.
 */
export function canonicalRuleSet(ruleSet: RuleSet): string {
  return JSON.stringify(sortKeys(ruleSet));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => [key, sortKeys(record[key])]),
  );
}

/** A short, stable name for a rule set's meaning, stored beside each version to detect edits. */
export function ruleSetFingerprint(ruleSet: RuleSet): string {
  return createHash('sha256').update(canonicalRuleSet(ruleSet)).digest('hex');
}
