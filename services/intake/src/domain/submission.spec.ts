import fc from 'fast-check';
import { decideSubmissionOutcome, submissionFingerprint } from './submission.js';

const jane = { caller: 'form:contact-sales', normalisedEmail: 'jane@example.com' };
const at = (normalisedEmail: string, caller = 'form:contact-sales') => ({ caller, normalisedEmail });

describe('submissionFingerprint', () => {
  it('is stable for the same email and key, and a fixed-length hex digest', () => {
    const first = submissionFingerprint(jane, 'form-42-abc');
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(submissionFingerprint(jane, 'form-42-abc')).toBe(first);
  });

  it('does not contain the email', () => {
    expect(submissionFingerprint(jane, 'k')).not.toContain('jane');
  });

  it('has no fingerprint without a key: every submission then counts', () => {
    expect(submissionFingerprint(jane)).toBeUndefined();
    expect(submissionFingerprint(jane, '')).toBeUndefined();
  });

  it('scopes the key to the person, so a key reused for someone else never replays their lead', () => {
    expect(submissionFingerprint(jane, 'same')).not.toBe(submissionFingerprint(at('john@example.com'), 'same'));
  });

  it('scopes the key to the caller, so one team\'s key never answers for another\'s', () => {
    expect(submissionFingerprint(at('jane@example.com', 'team:growth'), 'same')).not.toBe(submissionFingerprint(at('jane@example.com', 'team:events'), 'same'));
  });

  it('never collides for different (caller, email, key) triples, even where the concatenations are equal', () => {
    expect(submissionFingerprint(at('a'), 'bc')).not.toBe(submissionFingerprint(at('ab'), 'c'));
    expect(submissionFingerprint(at('b', 'a'), 'c')).not.toBe(submissionFingerprint(at('', 'ab'), 'c'));
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string({ minLength: 1 }), fc.string(), fc.string(), fc.string({ minLength: 1 }), (c1, e1, k1, c2, e2, k2) => {
        fc.pre(c1 !== c2 || e1 !== e2 || k1 !== k2);
        expect(submissionFingerprint(at(e1, c1), k1)).not.toBe(submissionFingerprint(at(e2, c2), k2));
      }),
    );
  });
});

describe('decideSubmissionOutcome', () => {
  it('replays when the idempotency key was seen, whether or not the contact is known', () => {
    expect(decideSubmissionOutcome({ leadId: 'l-1' }, true)).toBe('IDEMPOTENT_REPLAY');
    expect(decideSubmissionOutcome(undefined, true)).toBe('IDEMPOTENT_REPLAY');
  });

  it('adds a submission to the existing lead of a known contact', () => {
    expect(decideSubmissionOutcome({ leadId: 'l-1' }, false)).toBe('EXISTING_CONTACT');
  });

  it('creates a new lead for an unknown contact', () => {
    expect(decideSubmissionOutcome(undefined, false)).toBe('NEW_LEAD');
  });
});
