import { PERSONALIZATION_RULES, companySizeBand, decidePersonalization, type VisitorPicture } from './personalization.js';

const anonymous = (over: Partial<VisitorPicture> = {}): VisitorPicture => ({
  known: false,
  grade: 'D4',
  mql: false,
  scoringRuleSetVersion: '2026-11-15.1',
  scoreReasons: [],
  activityCount: 1,
  ...over,
});

describe('decidePersonalization', () => {
  it('offers a cold anonymous visitor the guide, and says why', () => {
    const d = decidePersonalization(anonymous());
    expect(d).toMatchObject({ known: false, gradeBand: 'COLD', callToAction: { id: 'read-guide' }, recommendedContent: 'guide:getting-started', rulesVersion: PERSONALIZATION_RULES.version, segment: { industry: '', companySizeBand: '' } });
    expect(d.reasons.join(' ')).toMatch(/anonymous visitor with 1 tracked activity.*engagement 4 is COLD.*Segment unknown.*read-guide/);
  });

  it('sends a visitor shopping on the pricing page to sales', () => {
    const d = decidePersonalization(anonymous({ grade: 'D2', activityCount: 3, scoreReasons: ['2 pricing page views: +50'] }));
    expect(d.gradeBand).toBe('HOT');
    expect(d.callToAction).toEqual({ id: 'talk-to-sales', label: 'Talk to sales', path: '/contact-sales' });
    expect(d.reasons.join(' ')).toContain('2 pricing page views: +50');
  });

  it('treats an MQL as hot whatever its engagement digit, and shows a warm lead proof from its industry', () => {
    expect(decidePersonalization(anonymous({ known: true, grade: 'A3', mql: true })).gradeBand).toBe('HOT');
    const warm = decidePersonalization(anonymous({ known: true, grade: 'B3', industry: 'Financial Services', companySize: 120, track: { id: 'marketing-nurture-general', reason: 'grade B3 is within B' } }));
    expect(warm).toMatchObject({ gradeBand: 'WARM', callToAction: { id: 'book-demo' }, recommendedContent: 'case-study:financial-services', recommendedTrackId: 'marketing-nurture-general', segment: { industry: 'Financial Services', companySizeBand: '51-200' } });
    expect(warm.reasons.join(' ')).toMatch(/Nurture recommends track marketing-nurture-general/);
  });

  it('bands company sizes', () => {
    expect([0, 1, 50, 51, 200, 201, 1000, 1001, 50_000].map((n) => companySizeBand(n, PERSONALIZATION_RULES))).toEqual(['', '1-50', '1-50', '51-200', '51-200', '201-1000', '201-1000', '1001+', '1001+']);
  });

  it('never carries more than bands: no field of the answer can hold a name or an email', () => {
    const d = decidePersonalization(anonymous({ known: true, grade: 'A1', industry: 'Software', companySize: 900 }));
    expect(Object.keys(d).sort()).toEqual(['activityCount', 'callToAction', 'grade', 'gradeBand', 'known', 'reasons', 'recommendedContent', 'recommendedTrackId', 'rulesVersion', 'scoringRuleSetVersion', 'segment']);
  });
});
