import fc from 'fast-check';
import { isRouted, mergeLeadState, sameLeadState, type LeadState } from './lead-state.js';

const at = (iso: string) => new Date(iso);
const score = (grade: string, when: string) => ({ value: { grade }, at: at(when) });

describe('mergeLeadState', () => {
  it('keeps the newer score when an older lead.scored arrives after it', () => {
    const newer = mergeLeadState(undefined, { score: score('A1', '2026-03-01T10:05:00Z') });
    const after = mergeLeadState(newer, { score: score('C3', '2026-03-01T10:00:00Z') });
    expect(after.score).toEqual(score('A1', '2026-03-01T10:05:00Z'));
  });

  it('takes each part on its own: an older part is refused while a newer one of the same event is taken', () => {
    const held: LeadState = { score: score('A1', '2026-03-01T10:05:00Z') };
    // lead.routed carries the score routing decided on (older) and a new assignment.
    const routed = mergeLeadState(held, {
      score: score('C3', '2026-03-01T10:00:00Z'),
      assignment: { value: { ownerId: 'avery-chen' }, at: at('2026-03-01T10:06:00Z') },
    });
    expect(routed.score?.value).toEqual({ grade: 'A1' });
    expect(routed.assignment?.value).toEqual({ ownerId: 'avery-chen' });
    expect(isRouted(routed)).toBe(true);
  });

  it('keeps the first reception and the first unsubscribe, whatever comes later', () => {
    const first = mergeLeadState(undefined, { receivedAt: at('2026-03-01T09:00:00Z'), unsubscribedAt: at('2026-03-02T09:00:00Z') });
    const later = mergeLeadState(first, { receivedAt: at('2026-03-05T09:00:00Z'), unsubscribedAt: at('2026-03-06T09:00:00Z') });
    expect(later).toMatchObject({ receivedAt: at('2026-03-01T09:00:00Z'), unsubscribedAt: at('2026-03-02T09:00:00Z') });
    expect(mergeLeadState(later, {})).toEqual(later);
  });

  it('ends in the same state whatever order the events arrive in, and a redelivery changes nothing', () => {
    const part = fc.record({ grade: fc.constantFrom('A1', 'B2', 'C3'), minute: fc.integer({ min: 0, max: 59 }) });
    const event = fc.record({ score: fc.option(part, { nil: undefined }), enrollment: fc.option(part, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 6 }), (list) => {
        // Distinct times per part, as real parts have (two different scores are never stamped alike).
        const seen: LeadState[] = list.map((e, i) => ({
          ...(e.score && { score: { value: { grade: e.score.grade, n: i }, at: new Date(Date.UTC(2026, 2, 1, 10, e.score.minute, i)) } }),
          ...(e.enrollment && { enrollment: { value: { trackId: e.enrollment.grade, n: i }, at: new Date(Date.UTC(2026, 2, 1, 11, e.enrollment.minute, i)) } }),
        }));
        const forward = seen.reduce<LeadState | undefined>((s, e) => mergeLeadState(s, e), undefined);
        const backward = [...seen].reverse().reduce<LeadState | undefined>((s, e) => mergeLeadState(s, e), undefined);
        expect(sameLeadState(forward, backward)).toBe(true);
        expect(sameLeadState(mergeLeadState(forward, seen[0]!), forward)).toBe(true);
      }),
    );
  });
});

describe('sameLeadState', () => {
  it('ignores key order and undefined parts, and sees a changed value', () => {
    const a: LeadState = { profile: { value: { contact: { email: 'a@example.com', company: 'X' } }, at: at('2026-03-01T10:00:00Z') } };
    const b: LeadState = { profile: { value: { contact: { company: 'X', email: 'a@example.com' } }, at: at('2026-03-01T10:00:00Z') }, score: undefined };
    expect(sameLeadState(a, b)).toBe(true);
    expect(sameLeadState(a, { profile: { value: { contact: { email: 'b@example.com', company: 'X' } }, at: at('2026-03-01T10:00:00Z') } })).toBe(false);
    expect(sameLeadState(undefined, {})).toBe(true);
  });
});
