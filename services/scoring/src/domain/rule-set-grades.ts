import type { DocumentReader } from './document-reader.js';
import type { EngagementGrade, FitGrade, GradeBoundaries, MqlRule } from './rule-set.js';

export const FIT_GRADES: readonly FitGrade[] = ['A', 'B', 'C', 'D'];
export const ENGAGEMENT_GRADES: readonly EngagementGrade[] = ['1', '2', '3', '4'];

export function readGrades(reader: DocumentReader, value: unknown): GradeBoundaries | undefined {
  const grades = reader.object(value, 'grades', ['fit', 'engagement']);
  if (!grades) return undefined;
  const fit = readBoundaries(reader, grades.fit, 'grades.fit', ['A', 'B', 'C']);
  const engagement = readBoundaries(reader, grades.engagement, 'grades.engagement', ['1', '2', '3']);
  if (!fit || !engagement) return undefined;
  return {
    fit: { A: fit[0]!, B: fit[1]!, C: fit[2]! },
    engagement: { '1': engagement[0]!, '2': engagement[1]!, '3': engagement[2]! },
  };
}

/** Minimum scores from the best grade down; each must be strictly lower than the one above it. */
function readBoundaries(reader: DocumentReader, value: unknown, path: string, keys: string[]): number[] | undefined {
  const map = reader.object(value, path, keys);
  if (!map) return undefined;
  const out: number[] = [];
  for (const key of keys) {
    // YAML reads `1: 60` with a numeric key; JavaScript objects store it as "1" either way.
    const min = reader.integer(map[key], `${path}.${key}`, 1, 100);
    if (min === undefined) return undefined;
    const above = out.at(-1);
    if (above !== undefined && min >= above) {
      return reader.fail(`${path}.${key}`, `must be lower than the grade above it (${keys[out.length - 1]}: ${above})`);
    }
    out.push(min);
  }
  return out;
}

export function readMqlRule(reader: DocumentReader, value: unknown): MqlRule | undefined {
  const mql = reader.object(value, 'mql', ['minFitGrade', 'minEngagementGrade']);
  if (!mql) return undefined;
  // YAML turns an unquoted 2 into a number; a marketer writing `minEngagementGrade: 2` means "2".
  const rawEngagement = typeof mql.minEngagementGrade === 'number' ? String(mql.minEngagementGrade) : mql.minEngagementGrade;
  const minFitGrade = FIT_GRADES.find((g) => g === mql.minFitGrade);
  const minEngagementGrade = ENGAGEMENT_GRADES.find((g) => g === rawEngagement);
  if (!minFitGrade) reader.fail('mql.minFitGrade', `must be one of ${FIT_GRADES.join(', ')}`);
  if (!minEngagementGrade) reader.fail('mql.minEngagementGrade', `must be one of ${ENGAGEMENT_GRADES.join(', ')}`);
  if (!minFitGrade || !minEngagementGrade) return undefined;
  return { minFitGrade, minEngagementGrade };
}
