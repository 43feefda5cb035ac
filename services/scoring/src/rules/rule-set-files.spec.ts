import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreLead } from '../domain/engine.js';
import { RuleSetError } from '../domain/rule-set.js';
import { defaultRulesDir, loadRuleSetFiles } from './rule-set-files.js';

const shippedInitial = join(defaultRulesDir(), '2026-11-01.1.yaml');

describe('defaultRulesDir', () => {
  it('points at services/scoring/rules', () => {
    expect(defaultRulesDir()).toMatch(/services\/scoring\/rules\/$/);
  });
});

describe('loadRuleSetFiles: the shipped rule sets', () => {
  const [initial, next] = loadRuleSetFiles(defaultRulesDir());

  it('loads both versions, oldest first', () => {
    expect(loadRuleSetFiles(defaultRulesDir()).map((r) => r.version)).toEqual(['2026-11-01.1', '2026-11-15.1']);
  });

  it('differs visibly between versions, so activation and rollback change scores', () => {
    expect(initial?.engagement.activities.PRICING_PAGE_VIEW?.points).toBe(15);
    expect(next?.engagement.activities.PRICING_PAGE_VIEW?.points).toBe(25);
    expect(initial?.mql).toEqual({ minFitGrade: 'B', minEngagementGrade: '2' });
    expect(next?.mql).toEqual({ minFitGrade: 'B', minEngagementGrade: '3' });

    // A Director of Engineering at a 120-person German software company who submitted Contact Sales today.
    const asOf = new Date('2026-11-20T09:00:00Z');
    const input = {
      profile: { email: 'jo@example-gmbh.de', jobTitle: 'Director of Engineering', companySize: 120, industry: 'Software', country: 'DE' },
      activities: [{ type: 'FORM_SUBMITTED' as const, occurredAt: new Date('2026-11-20T08:55:00Z') }],
      asOf,
    };
    expect(scoreLead(input, initial!)).toMatchObject({ fitScore: 75, engagementScore: 20, grade: 'A3', lifecycleStage: 'LEAD' });
    expect(scoreLead(input, next!)).toMatchObject({ fitScore: 75, engagementScore: 20, grade: 'A3', lifecycleStage: 'MQL', ruleSetVersion: '2026-11-15.1' });
  });
});

describe('loadRuleSetFiles: a rules directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'leadmesh-rules-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const withVersion = (version: string) => readFileSync(shippedInitial, 'utf8').replace('version: "2026-11-01.1"', `version: "${version}"`);

  it('sorts by version number, not by file name, and ignores other files', () => {
    writeFileSync(join(dir, '2026-11-01.10.yaml'), withVersion('2026-11-01.10'));
    writeFileSync(join(dir, '2026-11-01.9-pricing-push.yaml'), withVersion('2026-11-01.9'));
    writeFileSync(join(dir, 'README.md'), '# not a rule set');
    expect(loadRuleSetFiles(dir).map((r) => r.version)).toEqual(['2026-11-01.9', '2026-11-01.10']);
  });

  it('rejects two files holding the same version', () => {
    copyFileSync(shippedInitial, join(dir, '2026-11-01.1.yaml'));
    copyFileSync(shippedInitial, join(dir, '2026-11-01.1-copy.yaml'));
    expect(() => loadRuleSetFiles(dir)).toThrow(/2026-11-01\.1\.yaml: version "2026-11-01\.1" is already defined in .*2026-11-01\.1-copy\.yaml/);
  });

  it('rejects a file whose name disagrees with its version', () => {
    copyFileSync(shippedInitial, join(dir, '2026-12-01.1.yaml'));
    expect(() => loadRuleSetFiles(dir)).toThrow('does not match the file name; name it 2026-11-01.1.yaml');
  });

  it('names the file that is not YAML', () => {
    writeFileSync(join(dir, '2026-11-01.1.yaml'), 'version: [unclosed');
    expect(() => loadRuleSetFiles(dir)).toThrow(/2026-11-01\.1\.yaml: not valid YAML/);
  });

  it('names the file and the path of an invalid rule', () => {
    writeFileSync(join(dir, '2026-11-01.1.yaml'), readFileSync(shippedInitial, 'utf8').replace('halvesEveryDays: 30', 'halvesEveryDays: soon'));
    const load = () => loadRuleSetFiles(dir);
    expect(load).toThrow(RuleSetError);
    expect(load).toThrow(/2026-11-01\.1\.yaml: engagement\.decay\.halvesEveryDays: must be an integer/);
  });
});
