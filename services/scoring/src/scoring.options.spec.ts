import { loadScoringOptions } from './scoring.options.js';
import { defaultRulesDir } from './rules/rule-set-files.js';

describe('loadScoringOptions', () => {
  it('defaults to the shipped rules, the newest file active, and production timings', () => {
    expect(loadScoringOptions({})).toEqual({
      rulesDir: defaultRulesDir(),
      settingsRefreshMs: 5000,
      rescoreBatchSize: 100,
      rescorePauseMs: 0,
      rescorePollMs: 2000,
      rescoreLeaseMs: 30_000,
    });
  });

  it('reads every setting from the environment', () => {
    const options = loadScoringOptions({
      SCORING_RULES_DIR: '/rules',
      SCORING_ACTIVE_RULE_SET: '2026-11-01.1',
      SCORING_SETTINGS_REFRESH_MS: '300',
      SCORING_RESCORE_BATCH_SIZE: '1',
      SCORING_RESCORE_PAUSE_MS: '50',
      SCORING_RESCORE_POLL_MS: '200',
      SCORING_RESCORE_LEASE_MS: '1500',
    });
    expect(options).toEqual({
      rulesDir: '/rules',
      initialActiveVersion: '2026-11-01.1',
      settingsRefreshMs: 300,
      rescoreBatchSize: 1,
      rescorePauseMs: 50,
      rescorePollMs: 200,
      rescoreLeaseMs: 1500,
    });
  });

  it.each([
    ['SCORING_RESCORE_BATCH_SIZE', '0'],
    ['SCORING_SETTINGS_REFRESH_MS', 'soon'],
    ['SCORING_RESCORE_LEASE_MS', '1.5'],
    ['SCORING_RESCORE_PAUSE_MS', '-1'],
  ])('names %s when it is not a usable number (%s)', (key, value) => {
    expect(() => loadScoringOptions({ [key]: value })).toThrow(key);
  });
});
