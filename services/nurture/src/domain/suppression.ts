import type { TrackKind } from './tracks.js';

export type EmailKind = 'TRANSACTIONAL' | 'MARKETING';

export interface ContactEmailState {
  emailMarketingConsent: boolean;
  unsubscribed: boolean;
  bounced: boolean;
}

export interface EmailDecision {
  allowed: boolean;
  reason: string;
}

/**
 * Sales-assist emails are commercial messages the person did not ask for, so they follow the
 * marketing rules; only a reply to the person's own request is transactional.
 */
export function emailKindOf(trackKind: TrackKind): EmailKind {
  return trackKind === 'TRANSACTIONAL' ? 'TRANSACTIONAL' : 'MARKETING';
}

/**
 * Whether an email of this kind may go to this contact. This is the last word: no track can
 * override it.
 *
 * - Nothing ever goes to a bounced address (it protects the sending reputation and reaches nobody).
 * - Marketing needs recorded marketing consent and no unsubscribe.
 * - A transactional confirmation answers a Contact Sales request the person made themselves. Under
 *   GDPR it rests on that request (not on marketing consent), and CAN-SPAM treats it as a
 *   transactional message that an opt-out does not cover; so it goes out without marketing consent
 *   and even to someone who unsubscribed from marketing. It must stay free of promotion.
 */
export function mayEmail(kind: EmailKind, contact: ContactEmailState): EmailDecision {
  if (contact.bounced) return { allowed: false, reason: 'The address bounced; nothing is sent to a bounced address.' };
  if (kind === 'TRANSACTIONAL') {
    const note = contact.unsubscribed
      ? 'the person unsubscribed from marketing, which does not cover a reply to their own request'
      : 'marketing consent is not needed for a reply to their own request';
    return { allowed: true, reason: `Transactional confirmation of the person's own request: ${note}.` };
  }
  if (contact.unsubscribed) return { allowed: false, reason: 'The person unsubscribed; no marketing email, whatever the track says.' };
  if (!contact.emailMarketingConsent) return { allowed: false, reason: 'No email marketing consent on record; no marketing email.' };
  return { allowed: true, reason: 'Marketing consent on record, not unsubscribed, address not bounced.' };
}
