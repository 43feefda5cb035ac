import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuleSetError } from '../domain/rule-set.js';
import { canonicalRuleSet, readRuleSetDocument, ruleSetFingerprint, ruleSetIssues } from './rule-set-document.js';
import { defaultRulesDir } from './rule-set-files.js';

const shipped = readFileSync(join(defaultRulesDir(), '2026-11-01.1.yaml'), 'utf8');

function issuesOf(text: string) {
  try {
    readRuleSetDocument(text);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleSetError);
    return ruleSetIssues(err as RuleSetError);
  }
  throw new Error('expected the document to be rejected');
}

describe('readRuleSetDocument', () => {
  it('reads a shipped rule set from its text', () => {
    expect(readRuleSetDocument(shipped).version).toBe('2026-11-01.1');
  });

  it('reports YAML that does not parse against the whole document', () => {
    const [issue, ...rest] = issuesOf('version: [2026');
    expect(rest).toEqual([]);
    expect(issue?.path).toBe('(document)');
    expect(issue?.problem).toMatch(/^not valid YAML: /);
  });

  it('rejects a duplicate key instead of letting the second one win', () => {
    expect(issuesOf(`${shipped}\nversion: "2026-11-02.1"\n`)[0]?.problem).toMatch(/not valid YAML/);
  });

  it('names the path of every bad value', () => {
    const bad = shipped.replace('points: 15, maxPoints: 45', 'points: lots, maxPoints: 45').replace("fit: { A: 70", "fit: { A: 'high'");
    expect(issuesOf(bad).map((i) => i.path)).toEqual(
      expect.arrayContaining(['engagement.activities.PRICING_PAGE_VIEW.points', 'grades.fit.A']),
    );
  });
});

describe('ruleSetIssues', () => {
  it('splits "path: problem" at the first separator only', () => {
    const error = new RuleSetError(['fit.countries[0].countries[1]: must be "a code: two letters"', 'no separator here']);
    expect(ruleSetIssues(error)).toEqual([
      { path: 'fit.countries[0].countries[1]', problem: 'must be "a code: two letters"' },
      { path: '(document)', problem: 'no separator here' },
    ]);
  });
});

describe('canonicalRuleSet and ruleSetFingerprint', () => {
  const original = readRuleSetDocument(shipped);

  it('ignore comments, layout and key order', () => {
    const reordered = shipped
      .replace(/^#.*$/gm, '')
      .replace('PAGE_VIEW: { id: engagement.activity.page-view, points: 2, maxPoints: 10 }', 'PAGE_VIEW: { maxPoints: 10, points: 2, id: engagement.activity.page-view }');
    const same = readRuleSetDocument(reordered);
    expect(canonicalRuleSet(same)).toBe(canonicalRuleSet(original));
    expect(ruleSetFingerprint(same)).toBe(ruleSetFingerprint(original));
  });

  it('change with any rule that changes a score', () => {
    const changed = readRuleSetDocument(shipped.replace('points: 15, maxPoints: 45', 'points: 16, maxPoints: 45'));
    expect(ruleSetFingerprint(changed)).not.toBe(ruleSetFingerprint(original));
  });

  it('is a sha-256 in hex', () => {
    expect(ruleSetFingerprint(original)).toMatch(/^[0-9a-f]{64}$/);
  });
});
