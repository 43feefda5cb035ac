import { createHmac, timingSafeEqual } from 'node:crypto';
import Handlebars from 'handlebars';

export interface EmailTemplate {
  subject: string;
  html: string;
  text: string;
}

export interface EmailData {
  firstName?: string;
  lastName?: string;
  company?: string;
  product?: string;
  ownerName?: string;
  unsubscribeUrl: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

// A private instance: helpers someone registers globally elsewhere never reach lead emails.
const handlebars = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function compile(source: string, escapeHtml: boolean): Handlebars.TemplateDelegate {
  const key = `${escapeHtml ? 'html' : 'raw'}\u0000${source}`;
  let fn = compiled.get(key);
  if (!fn) {
    // Only the built-in helpers (if, unless, each, with): a template cannot call anything else.
    fn = handlebars.compile(source, { noEscape: !escapeHtml, knownHelpersOnly: true });
    // Templates come from a handful of files; the bound only matters if someone feeds in many.
    if (compiled.size > 500) compiled.clear();
    compiled.set(key, fn);
  }
  return fn;
}

/** Fails on template syntax errors at load time instead of at the first send. */
export function checkTemplateSyntax(template: EmailTemplate): void {
  for (const part of ['subject', 'html', 'text'] as const) {
    try {
      compile(template[part], part === 'html')({ unsubscribeUrl: 'https://example.invalid/u' });
    } catch (error) {
      throw new Error(`${part}: ${(error as Error).message}`);
    }
  }
}

function unsubscribeHref(raw: string): string {
  // WHATWG URL parsing silently drops CR/LF, which would hide an injection attempt; refuse instead.
  if (/[\r\n]/.test(raw)) throw new Error('unsubscribeUrl: must not contain a line break');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`unsubscribeUrl: must be an absolute URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`unsubscribeUrl: must be http(s), got ${url.protocol}`);
  // href is percent-encoded, so it cannot close the <...> of the List-Unsubscribe header.
  return url.href;
}

/**
 * Renders an email for one lead. The HTML part escapes lead data; the text part and the subject
 * keep it literal (they are not HTML). Lead data with a line break never reaches a header: a
 * subject that would contain CR or LF is refused. Every email carries RFC 8058 one-click
 * unsubscribe headers.
 */
export function renderEmail(template: EmailTemplate, data: EmailData): RenderedEmail {
  const unsubscribeUrl = unsubscribeHref(data.unsubscribeUrl);
  // Copy only the known fields, so nothing else a caller's object carries can reach a template.
  const context: EmailData = {
    firstName: data.firstName,
    lastName: data.lastName,
    company: data.company,
    product: data.product,
    ownerName: data.ownerName,
    unsubscribeUrl,
  };
  const subject = compile(template.subject, false)(context);
  if (/[\r\n]/.test(subject)) throw new Error('subject: would contain a line break (CR or LF); refusing to put lead data into a header');
  return {
    subject: subject.trim(),
    html: compile(template.html, true)(context),
    text: compile(template.text, false)(context),
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

// Domain separation: a signature made for another purpose with the same secret is not a token.
const PURPOSE = 'leadmesh.nurture.unsubscribe.v1';

function signature(leadId: string, secret: string): Buffer {
  if (Buffer.byteLength(secret) < 16) throw new Error('secret: must be at least 16 bytes');
  return createHmac('sha256', secret).update(`${PURPOSE}\u0000${leadId}`).digest();
}

/**
 * A token for the unsubscribe link: the lead id and its HMAC-SHA256, so nobody can make a link
 * for another lead. It does not expire on purpose: an unsubscribe link must keep working for as
 * long as the email sits in someone's inbox.
 */
export function unsubscribeToken(leadId: string, secret: string): string {
  if (leadId === '') throw new Error('leadId: must not be empty');
  return `${Buffer.from(leadId).toString('base64url')}.${signature(leadId, secret).toString('base64url')}`;
}

/** The lead id the token was made for, or undefined when the token is malformed or forged. */
export function verifyUnsubscribeToken(token: string, secret: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const [idPart, sigPart] = parts as [string, string];
  const leadId = Buffer.from(idPart, 'base64url').toString();
  // Lenient base64url decoding would accept variants of the same token; only the canonical one counts.
  if (leadId === '' || Buffer.from(leadId).toString('base64url') !== idPart) return undefined;
  const given = Buffer.from(sigPart, 'base64url');
  const expected = signature(leadId, secret);
  if (given.length !== expected.length || given.toString('base64url') !== sigPart) return undefined;
  return timingSafeEqual(given, expected) ? leadId : undefined;
}
