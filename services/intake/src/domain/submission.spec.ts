import fc from 'fast-check';
import { decideSubmissionOutcome, submissionFingerprint } from './submission.js';

describe('submissionFingerprint', () => {
  it('is stable for the same email and key, and a fixed-length hex digest', () => {
    const first = submissionFingerprint('jane@example.com', 'form-42-abc');
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(submissionFingerprint('jane@example.com', 'form-42-abc')).toBe(first);
  });

  it('does not contain the email', () => {
    expect(submissionFingerprint('jane@example.com', 'k')).not.toContain('jane');
  });

  it('has no fingerprint without a key: every submission then counts', () => {
    expect(submissionFingerprint('jane@example.com')).toBeUndefined();
    expect(submissionFingerprint('jane@example.com', '')).toBeUndefined();
  });

  it('scopes the key to the person, so a key reused for someone else never replays their lead', () => {
    expect(submissionFingerprint('jane@example.com', 'same')).not.toBe(submissionFingerprint('john@example.com', 'same'));
  });

  it('never collides for different (email, key) pairs, even where the concatenations are equal', () => {
    expect(submissionFingerprint('a', 'bc')).not.toBe(submissionFingerprint('ab', 'c'));
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), fc.string(), fc.string({ minLength: 1 }), (e1, k1, e2, k2) => {
        fc.pre(e1 !== e2 || k1 !== k2);
        expect(submissionFingerprint(e1, k1)).not.toBe(submissionFingerprint(e2, k2));
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
