import { exitReasons, recommendTrack, type EnrollmentEvents, type NurtureLead } from './recommend.js';
import { parseTrack, type Track } from './tracks.js';

function track(id: string, kind: Track['kind'], entry: Record<string, unknown>, priority = 0, exit: Record<string, unknown> = {}): Track {
  return parseTrack({
    id,
    version: '1',
    name: id.replace(/-/g, ' '),
    kind,
    entry,
    exit: { onUnsubscribe: true, onBounce: true, ...exit },
    priority,
    steps: [{ id: 'first', delay: { days: 0 }, template: 't', subject: 'S' }],
  });
}

const confirmation = track('contact-sales-confirmation', 'TRANSACTIONAL', {}, 1000);
const general = track('marketing-nurture-general', 'MARKETING', { stages: ['LEAD', 'MQL'] }, 0, { onRoutedToSales: true });
const highFit = track('marketing-nurture-high-fit', 'MARKETING', { grades: ['A', 'B1'] }, 0, { onRoutedToSales: true });
const crossSell = track('cross-sell-analytics', 'MARKETING', { products: ['Analytics'] }, 20, { onRoutedToSales: true });
const webinar = track('webinar-follow-up', 'MARKETING', { sources: ['webinar'] }, 10);
const salesAssist = track('sales-assist-owner-intro', 'SALES_ASSIST', { routedToSales: true }, 10, { onReply: true });
const salesAssistEnterprise = track('sales-assist-enterprise', 'SALES_ASSIST', { routedToSales: true, grades: ['A1'] }, 10);
const all = [confirmation, general, highFit, crossSell, webinar, salesAssist, salesAssistEnterprise];

const lead = (over: Partial<NurtureLead> = {}): NurtureLead => ({ email: 'ada@example.com', routedToSales: false, ...over });

describe('recommendTrack', () => {
  it('puts an unrouted lead with no special profile into the general marketing nurture', () => {
    const choice = recommendTrack(lead({ grade: 'C3', stage: 'LEAD' }), all);
    expect(choice?.track.id).toBe('marketing-nurture-general');
    expect(choice?.reason).toMatch(/not routed to sales, so it gets marketing nurture/);
    expect(choice?.reason).toMatch(/marketing-nurture-general v1\) matches stage LEAD/);
  });

  it('treats a lead that has no stage yet as a LEAD', () => {
    expect(recommendTrack(lead(), [general])?.track.id).toBe('marketing-nurture-general');
    expect(recommendTrack(lead(), [track('mql-only', 'MARKETING', { stages: ['MQL'] })])).toBeUndefined();
  });

  it('matches grades by full grade or by fit letter, case-insensitively on the lead side', () => {
    const only = [highFit];
    expect(recommendTrack(lead({ grade: 'A4' }), only)?.reason).toMatch(/grade A4 is within A\/B1/);
    expect(recommendTrack(lead({ grade: 'b1' }), only)?.track.id).toBe('marketing-nurture-high-fit');
    expect(recommendTrack(lead({ grade: 'B2' }), only)).toBeUndefined();
    expect(recommendTrack(lead({}), only)).toBeUndefined();
  });

  it('prefers the cross-sell track by product interest, explaining the priority among the matches', () => {
    const choice = recommendTrack(lead({ product: ' analytics ', grade: 'A1' }), all);
    expect(choice?.track.id).toBe('cross-sell-analytics');
    expect(choice?.reason).toMatch(/product interest 'analytics'/);
    expect(choice?.reason).toMatch(/preferred of 3 matching tracks \(priority 20\)/);
  });

  it('matches a source against the utm_source or the form id', () => {
    expect(recommendTrack(lead({ utmSource: 'Webinar' }), [webinar])?.reason).toMatch(/source 'Webinar'/);
    expect(recommendTrack(lead({ formId: 'webinar' }), [webinar])?.track.id).toBe('webinar-follow-up');
    expect(recommendTrack(lead({ utmSource: 'google', formId: 'contact-sales' }), [webinar])).toBeUndefined();
  });

  it('requires every entry criterion of a track to hold', () => {
    const narrow = track('narrow', 'MARKETING', { grades: ['A'], products: ['automation'] });
    expect(recommendTrack(lead({ grade: 'A1', product: 'automation' }), [narrow])?.reason).toMatch(/grade A1 is within A, product interest 'automation'/);
    expect(recommendTrack(lead({ grade: 'A1', product: 'analytics' }), [narrow])).toBeUndefined();
    expect(recommendTrack(lead({ grade: 'B1', product: 'automation' }), [narrow])).toBeUndefined();
  });

  it('takes a lead routed to sales out of marketing nurture and into a sales-assist track', () => {
    const choice = recommendTrack(lead({ routedToSales: true, product: 'analytics', grade: 'B2' }), all);
    expect(choice?.track.id).toBe('sales-assist-owner-intro');
    expect(choice?.reason).toMatch(/routed to sales, so it leaves marketing nurture and enters a sales-assist track/);
  });

  it('prefers the narrower sales-assist track on equal priority', () => {
    const choice = recommendTrack(lead({ routedToSales: true, grade: 'A1' }), all);
    expect(choice?.track.id).toBe('sales-assist-enterprise');
  });

  it('recommends nothing for a routed lead when no sales-assist track matches', () => {
    expect(recommendTrack(lead({ routedToSales: true }), [general, crossSell, confirmation])).toBeUndefined();
  });

  it('never recommends a transactional track, whatever its priority', () => {
    expect(recommendTrack(lead(), [confirmation])).toBeUndefined();
  });

  it('does not depend on the order of the tracks', () => {
    const profile = lead({ grade: 'A2', product: 'analytics' });
    const forward = recommendTrack(profile, all);
    const backward = recommendTrack(profile, [...all].reverse());
    expect(backward).toEqual(forward);
  });

  it('breaks a full tie by track id so the choice is stable', () => {
    const b = track('b-track', 'MARKETING', {});
    const a = track('a-track', 'MARKETING', {});
    expect(recommendTrack(lead(), [b, a])?.track.id).toBe('a-track');
    expect(recommendTrack(lead(), [b, a])?.reason).toMatch(/accepts every such lead; the preferred of 2 matching tracks/);
  });
});

describe('exitReasons', () => {
  const none: EnrollmentEvents = { unsubscribed: false, bounced: false, replied: false, becameMql: false, routedToSales: false };

  it('keeps the enrollment going while nothing happened', () => {
    expect(exitReasons(general, lead(), none)).toBeUndefined();
  });

  it.each([
    [{ unsubscribed: true }, 'the person unsubscribed'],
    [{ bounced: true }, 'the address bounced'],
  ])('ends every track on %j', (event, why) => {
    for (const t of [confirmation, general, salesAssist]) {
      expect(exitReasons(t, lead(), { ...none, ...event })).toContain(why);
    }
  });

  it('ends on a reply only where the track says so', () => {
    expect(exitReasons(salesAssist, lead(), { ...none, replied: true })).toBe(
      "Leaves 'sales assist owner intro' (sales-assist-owner-intro v1) because the person replied.",
    );
    expect(exitReasons(general, lead(), { ...none, replied: true })).toBeUndefined();
  });

  it('ends on becoming an MQL only where the track says so, from the event or the current stage', () => {
    const mqlExit = track('until-mql', 'MARKETING', {}, 0, { onMql: true });
    expect(exitReasons(mqlExit, lead(), { ...none, becameMql: true })).toContain('the lead became an MQL');
    expect(exitReasons(mqlExit, lead({ stage: 'MQL' }), none)).toContain('the lead became an MQL');
    expect(exitReasons(general, lead({ stage: 'MQL' }), { ...none, becameMql: true })).toBeUndefined();
  });

  it('always ends a marketing track when the lead is routed to sales, even if the track does not say so', () => {
    const silent = track('silent-on-routing', 'MARKETING', {});
    expect(exitReasons(silent, lead(), { ...none, routedToSales: true })).toContain('the lead was routed to sales');
    expect(exitReasons(general, lead({ routedToSales: true }), none)).toContain('the lead was routed to sales');
  });

  it('keeps a sales-assist track going when the lead is routed to sales', () => {
    expect(exitReasons(salesAssist, lead({ routedToSales: true }), { ...none, routedToSales: true })).toBeUndefined();
  });

  it('names every reason at once', () => {
    expect(exitReasons(general, lead(), { ...none, unsubscribed: true, bounced: true, routedToSales: true })).toBe(
      "Leaves 'marketing nurture general' (marketing-nurture-general v1) because the person unsubscribed, the address bounced and the lead was routed to sales.",
    );
  });
});
