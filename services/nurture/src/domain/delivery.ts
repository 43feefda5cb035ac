import { createHash } from 'node:crypto';

/**
 * The SMTP Message-ID of one step's email for one lead. Deterministic, so the id is known and
 * stored before the send starts: a retry after a crash, and anyone reading the SMTP log, can tell
 * that two attempts were the same email. Hashed so the id shows no lead data.
 */
export function stepMessageId(leadId: string, trackId: string, stepId: string, domain: string): string {
  for (const [field, value] of Object.entries({ leadId, trackId, stepId, domain })) {
    if (value === '') throw new Error(`${field}: must not be empty`);
  }
  if (!/^[a-z0-9.-]+$/i.test(domain)) throw new Error(`domain: must be a plain host name, got ${JSON.stringify(domain)}`);
  const digest = createHash('sha256').update(`${leadId}\u0000${trackId}\u0000${stepId}`).digest('hex').slice(0, 32);
  return `<${digest}.nurture@${domain.toLowerCase()}>`;
}

/** The host part of a From address such as `leadmesh <hello@leadmesh.example>`. */
export function senderDomain(from: string): string {
  const match = /@([a-z0-9.-]+)>?\s*$/i.exec(from.trim());
  if (!match) throw new Error(`from: must be an email address, optionally with a name, got ${JSON.stringify(from)}`);
  return match[1]!.toLowerCase();
}

/** What an SMTP client reports about a failed send (nodemailer's error fields). */
export interface SendFailure {
  /** SMTP reply code, when the server answered. */
  responseCode?: number;
  /** The SMTP command that was refused, e.g. 'RCPT TO'. */
  command?: string;
  /** Whether the whole message had gone to the server before the failure (DATA's content sent). */
  contentHandedOver?: boolean;
}

/** 'unknown': the server may have accepted the email, see sendAfterUnknownOutcome. */
export type FailureOutcome = 'retry' | 'give-up' | 'bounce' | 'unknown';

/**
 * What a failed send means. A 5xx refusal of the recipient is a hard bounce: the address is
 * suppressed for good. Any other 5xx is permanent for this email (retrying cannot help). A 4xx
 * reply or no reply at all (connection refused, timeout) is temporary: retry with backoff.
 */
export function classifySendFailure(failure: SendFailure): FailureOutcome {
  const code = failure.responseCode;
  // The whole message went out and no reply came back (a timeout or reset waiting for it): the
  // server may have queued the email. Before that point it cannot have: a message without its
  // terminating dot is never delivered.
  if (code === undefined && failure.contentHandedOver) return 'unknown';
  if (code === undefined || code < 500) return 'retry';
  if (/^RCPT/i.test(failure.command ?? '') && [550, 551, 553].includes(code)) return 'bounce';
  return 'give-up';
}

/**
 * The rule for an email whose outcome is unknown: the server went silent after taking the whole
 * message, or a replica died while the step was SENDING. Dropping it could lose a confirmation for
 * good; resending it could deliver it twice. It is sent once more, with the same Message-ID (so the
 * receiving side and the SMTP log can tell the copies apart), and recorded as possibly duplicated.
 * A second unknown outcome gives the step up as FAILED, with a note to look the id up, rather than
 * risk a third copy.
 */
export function sendAfterUnknownOutcome(alreadyPossiblyDuplicated: boolean): 'send-once-more' | 'give-up' {
  return alreadyPossiblyDuplicated ? 'give-up' : 'send-once-more';
}
