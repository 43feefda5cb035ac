import { scoreChanged, type ScoreOutcome } from './score-change.js';

const base: ScoreOutcome = { fitScore: 75, engagementScore: 15, grade: 'A3', lifecycleStage: 'LEAD' };

describe('scoreChanged', () => {
  it('is true for a lead never scored before', () => {
    expect(scoreChanged(undefined, base)).toBe(true);
    expect(scoreChanged(undefined, { ...base, fitScore: 0, engagementScore: 0 })).toBe(true);
  });

  it('is false when nothing downstream acts on moved', () => {
    expect(scoreChanged(base, { ...base })).toBe(false);
  });

  it.each([
    ['fit score', { fitScore: 76 }],
    ['engagement score', { engagementScore: 14 }],
    ['grade', { grade: 'A2' }],
    ['lifecycle stage', { lifecycleStage: 'MQL' as const }],
  ])('is true when the %s moves', (_, change) => {
    expect(scoreChanged(base, { ...base, ...change })).toBe(true);
  });

  it('ignores what does not reach sales (reasons, rule-set version)', () => {
    const next = { ...base, reasons: [{ ruleId: 'x', dimension: 'FIT' as const, points: 1, explanation: 'x' }], ruleSetVersion: '2026-11-15.1' };
    expect(scoreChanged(base, next)).toBe(false);
  });
});
