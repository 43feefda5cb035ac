import { delayMinutes, parseTrack, TrackError } from './tracks.js';

function raw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'marketing-nurture-general',
    version: '1',
    name: 'General marketing nurture',
    kind: 'MARKETING',
    entry: { stages: ['LEAD', 'MQL'] },
    exit: { onRoutedToSales: true, onUnsubscribe: true, onBounce: true, onReply: true },
    priority: 0,
    steps: [
      { id: 'day-0', delay: { days: 0 }, template: 'nurture-welcome', subject: 'Welcome' },
      { id: 'day-3', delay: { days: 3 }, template: 'nurture-customer-stories', subject: 'Stories' },
    ],
    ...overrides,
  };
}

const step = (over: Record<string, unknown> = {}) => ({ id: 's', delay: {}, template: 't', subject: 'S', ...over });

describe('parseTrack', () => {
  it('accepts a valid track and keeps its data', () => {
    const track = parseTrack(raw({ entry: { grades: ['A', 'B2'], products: ['analytics'], sources: ['webinar'], stages: ['LEAD'] } }));
    expect(track).toEqual({
      id: 'marketing-nurture-general',
      version: '1',
      name: 'General marketing nurture',
      kind: 'MARKETING',
      entry: { grades: ['A', 'B2'], products: ['analytics'], sources: ['webinar'], stages: ['LEAD'] },
      exit: { onRoutedToSales: true, onUnsubscribe: true, onBounce: true, onReply: true },
      priority: 0,
      steps: [
        { id: 'day-0', delay: { days: 0 }, template: 'nurture-welcome', subject: 'Welcome' },
        { id: 'day-3', delay: { days: 3 }, template: 'nurture-customer-stories', subject: 'Stories' },
      ],
    });
  });

  it('reads an integer version as a string and treats a missing entry as "every lead"', () => {
    const { entry: _unused, ...withoutEntry } = raw({ version: 3 });
    const track = parseTrack(withoutEntry);
    expect(track.version).toBe('3');
    expect(track.entry).toEqual({});
  });

  it.each([
    [{ id: 'Has Spaces' }, /^id: must be a lowercase slug/],
    [{ version: 1.1 }, /^version: must be a non-empty string, got 1.1/],
    [{ name: '' }, /^name: must be a non-empty string/],
    [{ kind: 'NEWSLETTER' }, /^kind: must be one of TRANSACTIONAL, MARKETING, SALES_ASSIST, got "NEWSLETTER"/],
    [{ priority: 'high' }, /^priority: must be an integer/],
    [{ priority: 1.5 }, /^priority: must be an integer/],
    [{ entry: { grades: ['E1'] } }, /^entry\.grades\[0\]: must be a grade such as 'A1'/],
    [{ entry: { grades: ['a1'] } }, /^entry\.grades\[0\]: must be a grade/],
    [{ entry: { grades: [] } }, /^entry\.grades: must be a non-empty list/],
    [{ entry: { stages: ['SQL'] } }, /^entry\.stages\[0\]: must be one of LEAD, MQL/],
    [{ entry: { products: ['ok', 7] } }, /^entry\.products\[1\]: must be a non-empty string, got 7/],
    [{ entry: { grade: ['A'] } }, /^entry\.grade: unknown field/],
    [{ entry: { routedToSales: 'yes' } }, /^entry\.routedToSales: must be true or false/],
    [{ entry: 'everyone' }, /^entry: must be a mapping, got "everyone"/],
    [{ exit: { onBounce: true } }, /^exit\.onUnsubscribe: must be true/],
    [{ exit: { onUnsubscribe: true, onBounce: false } }, /^exit\.onBounce: must be true/],
    [{ exit: { onUnsubscribe: true, onBounce: true, onReply: 1 } }, /^exit\.onReply: must be true or false/],
    [{ exit: undefined }, /^exit: must be a mapping, got nothing/],
    [{ steps: [] }, /^steps: must be a non-empty list of steps/],
    [{ steps: [step({ delay: { days: -1 } })] }, /^steps\[0\]\.delay\.days: must be an integer >= 0, got -1/],
    [{ steps: [step({ delay: { weeks: 1 } })] }, /^steps\[0\]\.delay\.weeks: unknown field/],
    [{ steps: [step({ delay: undefined })] }, /^steps\[0\]\.delay: must be a mapping/],
    [{ steps: [step({ template: '../etc/passwd' })] }, /^steps\[0\]\.template: must be a lowercase template name/],
    [{ steps: [step({ subject: 'Hi\r\nBcc: x@example.com' })] }, /^steps\[0\]\.subject: must be one line/],
    [{ steps: [step({ id: 'a' }), step({ id: 'a' })] }, /^steps\[1\]\.id: duplicate step id "a"/],
    [{ steps: [step({ id: 'a', delay: { days: 3 } }), step({ id: 'b', delay: { days: 1 } })] }, /^steps\[1\]\.delay: is due before the previous step "a"/],
    [{ kind: 'SALES_ASSIST' }, /^entry\.routedToSales: must be true for a SALES_ASSIST track/],
    [{ entry: { routedToSales: true } }, /^entry\.routedToSales: must not be true for a MARKETING track/],
    [{ exit: { onUnsubscribe: true, onBounce: true, onRoutedToSales: false } }, /^exit\.onRoutedToSales: must not be false for a MARKETING track/],
    [{ colour: 'blue' }, /^colour: unknown field/],
  ])('rejects %j naming the field', (overrides, message) => {
    expect(() => parseTrack(raw(overrides))).toThrow(message);
  });

  it('rejects something that is not a mapping at all', () => {
    expect(() => parseTrack(['a'])).toThrow(/^track: must be a mapping, got a list/);
    expect(() => parseTrack(null)).toThrow(TrackError);
  });

  it('prefixes paths with the given location and exposes the path on the error', () => {
    try {
      parseTrack(raw({ priority: 'x' }), 'tracks[2]');
      throw new Error('expected a TrackError');
    } catch (error) {
      expect(error).toBeInstanceOf(TrackError);
      expect((error as TrackError).path).toBe('tracks[2].priority');
    }
  });

  it('allows a later step at the same offset as the previous one', () => {
    const track = parseTrack(raw({ steps: [step({ id: 'a', delay: { hours: 24 } }), step({ id: 'b', delay: { days: 1 } })] }));
    expect(track.steps.map((s) => s.id)).toEqual(['a', 'b']);
  });
});

describe('delayMinutes', () => {
  it('adds days, hours and minutes, an empty delay being zero', () => {
    expect(delayMinutes({})).toBe(0);
    expect(delayMinutes({ days: 1, hours: 2, minutes: 3 })).toBe(24 * 60 + 2 * 60 + 3);
  });
});
