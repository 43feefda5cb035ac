// What a website may show one visitor now, decided by versioned rules from what scoring and nurture
// answered about the visitor. Pure: the inputs carry no name and no email, and neither does the
// answer. Changing a rule means a new version here, reviewed in Git like scoring's rule sets; the
// answer names the version that decided it.

export type GradeBand = 'COLD' | 'WARM' | 'HOT';

export interface CallToAction {
  id: string;
  label: string;
  path: string;
}

export interface PersonalizationRules {
  version: string;
  /** Company-size bands, smallest first; the last has no upper bound. */
  companySizeBands: Array<{ label: string; max?: number }>;
  /** Engagement digits (the grade's second character) per band; an MQL is always HOT. */
  bandsByEngagementDigit: Record<'1' | '2' | '3' | '4', GradeBand>;
  callsToAction: Record<GradeBand, CallToAction>;
  /** Content per band; `{industry}` is the segment's industry as a slug, `general` when unknown. */
  content: Record<GradeBand, string>;
}

export const PERSONALIZATION_RULES: PersonalizationRules = {
  version: '2026-11-27.1',
  companySizeBands: [{ label: '1-50', max: 50 }, { label: '51-200', max: 200 }, { label: '201-1000', max: 1000 }, { label: '1001+' }],
  // Engagement 1-2 (35 points or more under the active scoring rules: two pricing page views) is a
  // visitor shopping now; 3 is looking around; 4 has barely started.
  bandsByEngagementDigit: { '1': 'HOT', '2': 'HOT', '3': 'WARM', '4': 'COLD' },
  callsToAction: {
    HOT: { id: 'talk-to-sales', label: 'Talk to sales', path: '/contact-sales' },
    WARM: { id: 'book-demo', label: 'See it in a 20-minute demo', path: '/demo' },
    COLD: { id: 'read-guide', label: 'Read the getting-started guide', path: '/guides/getting-started' },
  },
  content: {
    HOT: 'pricing:plans-compared',
    WARM: 'case-study:{industry}',
    COLD: 'guide:getting-started',
  },
};

/** What personalization knows of a visitor: bands and grades only. */
export interface VisitorPicture {
  known: boolean;
  industry?: string;
  companySize?: number;
  grade: string;
  mql: boolean;
  scoringRuleSetVersion: string;
  /** Scoring's top reasons, already in marketers' words, e.g. "2 pricing page views: +50". */
  scoreReasons: string[];
  activityCount: number;
  track?: { id: string; reason: string };
}

export interface PersonalizationDecision {
  known: boolean;
  segment: { industry: string; companySizeBand: string };
  grade: string;
  gradeBand: GradeBand;
  recommendedTrackId: string;
  recommendedContent: string;
  callToAction: CallToAction;
  rulesVersion: string;
  scoringRuleSetVersion: string;
  reasons: string[];
  activityCount: number;
}

export function companySizeBand(size: number | undefined, rules: PersonalizationRules): string {
  if (!size) return '';
  return rules.companySizeBands.find((b) => b.max === undefined || size <= b.max)!.label;
}

const slug = (s: string) => s.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function decidePersonalization(picture: VisitorPicture, rules: PersonalizationRules = PERSONALIZATION_RULES): PersonalizationDecision {
  const reasons: string[] = [];
  const who = picture.known ? 'a known lead' : 'an anonymous visitor';
  reasons.push(`The visitor is ${who} with ${picture.activityCount} tracked ${picture.activityCount === 1 ? 'activity' : 'activities'}.`);
  const digit = (picture.grade.at(1) ?? '4') as keyof PersonalizationRules['bandsByEngagementDigit'];
  const byDigit = rules.bandsByEngagementDigit[digit] ?? 'COLD';
  const gradeBand: GradeBand = picture.mql ? 'HOT' : byDigit;
  const why = picture.scoreReasons.length ? ` (${picture.scoreReasons.join('; ')})` : '';
  reasons.push(
    picture.mql
      ? `Grade ${picture.grade} under scoring rule set ${picture.scoringRuleSetVersion} and a marketing qualified lead, so ${gradeBand}${why}.`
      : `Grade ${picture.grade} under scoring rule set ${picture.scoringRuleSetVersion}: engagement ${digit} is ${gradeBand}${why}.`,
  );
  const industry = picture.industry?.trim() ?? '';
  const companySizeBandLabel = companySizeBand(picture.companySize, rules);
  if (industry || companySizeBandLabel) reasons.push(`Segment: ${industry || 'industry unknown'}, ${companySizeBandLabel ? `${companySizeBandLabel} employees` : 'company size unknown'}.`);
  else reasons.push('Segment unknown: the visitor has not told us their company yet.');
  const callToAction = rules.callsToAction[gradeBand];
  reasons.push(`${gradeBand} visitors are offered "${callToAction.label}" (${callToAction.id}).`);
  const recommendedContent = rules.content[gradeBand].replace('{industry}', slug(industry) || 'general');
  if (picture.track) reasons.push(`Nurture recommends track ${picture.track.id}: ${picture.track.reason}`);
  else reasons.push('Nurture has no track for this visitor yet.');
  return {
    known: picture.known,
    segment: { industry, companySizeBand: companySizeBandLabel },
    grade: picture.grade,
    gradeBand,
    recommendedTrackId: picture.track?.id ?? '',
    recommendedContent,
    callToAction,
    rulesVersion: rules.version,
    scoringRuleSetVersion: picture.scoringRuleSetVersion,
    reasons,
    activityCount: picture.activityCount,
  };
}
