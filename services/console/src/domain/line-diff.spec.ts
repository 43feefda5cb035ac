import { diffLines } from './line-diff.js';

describe('diffLines', () => {
  it('marks the lines only in the first version removed and those only in the second added', () => {
    expect(diffLines('version: 1\npoints: 10\ngrade: A', 'version: 2\npoints: 10\ngrade: A\nextra: yes')).toEqual([
      { kind: 'removed', text: 'version: 1' },
      { kind: 'added', text: 'version: 2' },
      { kind: 'same', text: 'points: 10' },
      { kind: 'same', text: 'grade: A' },
      { kind: 'added', text: 'extra: yes' },
    ]);
  });

  it('finds nothing changed between equal documents', () => {
    expect(diffLines('a\nb', 'a\nb').every((l) => l.kind === 'same')).toBe(true);
  });
});
