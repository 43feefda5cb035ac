import { MAX_BATCH, parseBeaconBatch } from './beacon.js';

const now = new Date('2026-11-27T12:00:00Z');
const activity = (over: Record<string, unknown> = {}) => ({ activityId: 'a1b2c3d4e5f6', type: 'PRICING_PAGE_VIEW', url: 'https://www.example.com/pricing', occurredAt: '2026-11-27T11:59:58Z', ...over });
const parse = (body: unknown) => parseBeaconBatch(typeof body === 'string' ? body : JSON.stringify(body), now);

describe('parseBeaconBatch', () => {
  it('reads a batch from the tracker', () => {
    const result = parse({ visitorId: 'v.0123abcd', activities: [activity(), activity({ activityId: 'a1b2c3d4e5f7', type: 'FORM_VIEWED' })] });
    expect(result.violations).toEqual([]);
    expect(result.batch).toEqual({
      visitorId: 'v.0123abcd',
      activities: [
        { activityId: 'a1b2c3d4e5f6', type: 'PRICING_PAGE_VIEW', url: 'https://www.example.com/pricing', occurredAt: new Date('2026-11-27T11:59:58Z') },
        { activityId: 'a1b2c3d4e5f7', type: 'FORM_VIEWED', url: 'https://www.example.com/pricing', occurredAt: new Date('2026-11-27T11:59:58Z') },
      ],
    });
  });

  it('refuses the whole batch and names each bad field', () => {
    const result = parse({ visitorId: 'v 1', activities: [activity(), activity({ activityId: 'a1b2c3d4e5f6', type: 'EMAIL_CLICKED', occurredAt: '2026-11-25T00:00:00Z', extra: 1 })] });
    expect(result.batch).toBeUndefined();
    expect(result.violations.map((v) => v.field).sort()).toEqual(['activities[1].activityId', 'activities[1].extra', 'activities[1].occurredAt', 'activities[1].type', 'visitorId']);
    expect(result.violations.find((v) => v.field === 'activities[1].type')!.description).toMatch(/PAGE_VIEW/);
  });

  it('refuses an empty, an over-long or an ambiguous batch, and text that is not a JSON object', () => {
    expect(parse({ visitorId: 'v1', activities: [] }).violations).toEqual([{ field: 'activities', description: expect.stringContaining(`1 to ${MAX_BATCH}`) }]);
    const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => activity({ activityId: `activity-${i}-xx` }));
    expect(parse({ visitorId: 'v1', activities: many }).violations[0]!.field).toBe('activities');
    expect(parse('{"visitorId":"v1","visitorId":"v2","activities":[]}').violations).toEqual([{ field: 'visitorId', description: 'given twice' }]);
    expect(parse('[1]').violations[0]!.field).toBe('body');
    expect(parse('not json').violations[0]!.field).toBe('body');
  });
});
