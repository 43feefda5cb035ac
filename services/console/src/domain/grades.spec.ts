import { gradeDistribution } from './grades.js';

describe('gradeDistribution', () => {
  it('counts each grade before and after, best grade first, and the leads that change', () => {
    const result = gradeDistribution([
      { before: 'C3', after: 'B2' },
      { before: 'C3', after: 'C3' },
      { before: 'A1', after: 'A1' },
      { before: 'D4', after: 'C4' },
    ]);
    expect(result.distribution).toEqual([
      { grade: 'A1', before: 1, after: 1 },
      { grade: 'B2', before: 0, after: 1 },
      { grade: 'C3', before: 2, after: 1 },
      { grade: 'C4', before: 0, after: 1 },
      { grade: 'D4', before: 1, after: 0 },
    ]);
    expect(result.changed).toBe(2);
  });

  it('has nothing to show for no leads', () => {
    expect(gradeDistribution([])).toEqual({ distribution: [], changed: 0 });
  });
});
