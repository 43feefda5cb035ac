import { delaySeconds, tallyEnrollments } from './track-summary.js';

describe('track summaries', () => {
  it('reads a delay of days, hours and minutes in seconds', () => {
    expect(delaySeconds({})).toBe(0);
    expect(delaySeconds({ days: 2, hours: 3, minutes: 4 })).toBe(2 * 86_400 + 3 * 3600 + 4 * 60);
  });

  it('folds the counts by status into one tally per track', () => {
    const tallies = tallyEnrollments([
      { trackId: 'welcome', status: 'ACTIVE', count: 3 },
      { trackId: 'welcome', status: 'EXITED', count: 1 },
      { trackId: 'confirm', status: 'COMPLETED', count: 7 },
    ]);
    expect(Object.fromEntries(tallies)).toEqual({ welcome: { active: 3, completed: 0, exited: 1 }, confirm: { active: 0, completed: 7, exited: 0 } });
  });
});
