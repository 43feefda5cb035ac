/** The grades a score can have, best first: fit A-D, engagement 1-4. */
export const GRADES = ['A', 'B', 'C', 'D'].flatMap((fit) => ['1', '2', '3', '4'].map((engagement) => `${fit}${engagement}`));

export interface GradeCount {
  grade: string;
  before: number;
  after: number;
}

/**
 * How many leads hold each grade under the active rule set (before) and the candidate (after),
 * best grade first, leaving out grades neither has: the bars of the scoring page's chart.
 */
export function gradeDistribution(pairs: { before: string; after: string }[]): { distribution: GradeCount[]; changed: number } {
  const counts = new Map<string, GradeCount>();
  const at = (grade: string) => {
    let count = counts.get(grade);
    if (!count) counts.set(grade, (count = { grade, before: 0, after: 0 }));
    return count;
  };
  let changed = 0;
  for (const { before, after } of pairs) {
    if (before) at(before).before += 1;
    if (after) at(after).after += 1;
    if (before !== after) changed += 1;
  }
  const rank = (grade: string) => (GRADES.includes(grade) ? GRADES.indexOf(grade) : GRADES.length);
  return { distribution: [...counts.values()].sort((a, b) => rank(a.grade) - rank(b.grade) || a.grade.localeCompare(b.grade)), changed };
}
