import { createHash } from 'node:crypto';

/** What intake did with a submission; mirrors the proto's SubmissionOutcome without its prefix. */
export type SubmissionOutcome = 'NEW_LEAD' | 'EXISTING_CONTACT' | 'IDEMPOTENT_REPLAY';

/**
 * The key a retried submission is recognised by, or undefined when the client sent no idempotency
 * key (then every submission counts, and a repeat by the same person is a new submission on their
 * lead). The client's key is scoped to the caller (the token's subject) and the normalised email,
 * as payment APIs scope theirs to the account: a form that wrongly sends the same key for everyone
 * must not turn a second person's lead into a "replay" of the first and lose it, and one team's
 * keys can never answer for another's. Hashed so the stored key carries no email and has a fixed
 * length whatever the client sent.
 */
export function submissionFingerprint(scope: { caller: string; normalisedEmail: string }, idempotencyKey?: string): string | undefined {
  if (idempotencyKey === undefined || idempotencyKey === '') return undefined;
  // Each part length-prefixed so that ("a", "bc") and ("ab", "c") can never hash the same input.
  const parts = [scope.caller, scope.normalisedEmail, idempotencyKey].map((part) => `${part.length}:${part}`);
  return createHash('sha256').update(parts.join('')).digest('hex');
}

/**
 * The one rule for a submission's outcome. A seen idempotency key wins over everything: the first
 * answer is returned and nothing new is stored or published. Otherwise a known contact (same
 * normalised email) gets a new submission on their existing lead, and anyone else a new lead.
 */
export function decideSubmissionOutcome(
  existing: { leadId: string } | undefined,
  idempotencyHit: boolean,
): SubmissionOutcome {
  if (idempotencyHit) return 'IDEMPOTENT_REPLAY';
  return existing === undefined ? 'NEW_LEAD' : 'EXISTING_CONTACT';
}
