/**
 * A problem with one field of a submission. `field` is the proto field path in snake_case
 * (`contact.first_name`), the same form protovalidate uses, so a caller sees one vocabulary whether
 * the problem was found by the proto rules or by intake's own checks. Structurally identical to the
 * platform's FieldViolation, so these can be thrown as an InvalidArgumentError as they are.
 */
export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * A value intake could not read in an optional field, which does not cost the lead: the field is
 * left empty, the value as sent is kept on the raw submission, and the caller is told which field.
 */
export interface FieldNotice {
  field: string;
  description: string;
}

// Anything that can end a line for some consumer downstream: a CR or LF in a name lands in an email
// header or an SMTP command and starts a new one (header/SMTP injection); NUL truncates strings in C
// code paths; NEL, U+2028 and U+2029 are line breaks to several parsers and CSV/CRM importers. Tabs
// and the other C0 controls have no business in a one-line value either.
const SINGLE_LINE_FORBIDDEN = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;
// Free text (the message a person typed) may span lines, so only the controls no one types are out.
const MULTI_LINE_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const NAMED_CONTROLS: Readonly<Record<string, string>> = {
  '\r': 'a carriage return (CR)',
  '\n': 'a line feed (LF)',
  '\u0000': 'a NUL character',
  '\t': 'a tab',
};

function describeControl(char: string): string {
  const named = NAMED_CONTROLS[char];
  if (named !== undefined) return named;
  const hex = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `the control character U+${hex}`;
}

/**
 * Flags control characters that would let a value break out of its line downstream (email headers,
 * SMTP, CRM imports), and malformed Unicode (unpaired surrogates), which cannot be stored or sent as
 * UTF-8 faithfully. Every field is treated as single-line unless it is named in `multiLineFields`,
 * where line breaks and tabs are allowed. The offending value is never echoed back: it is hostile or
 * personal, and error messages end up in logs.
 */
export function findInjection(
  fields: Readonly<Record<string, string | undefined>>,
  multiLineFields: readonly string[] = [],
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined || value === '') continue;
    const forbidden = multiLineFields.includes(field) ? MULTI_LINE_FORBIDDEN : SINGLE_LINE_FORBIDDEN;
    const control = forbidden.exec(value);
    if (control !== null) {
      violations.push({
        field,
        description: `contains ${describeControl(control[0])}; control characters are not allowed in this field`,
      });
    } else if (!value.isWellFormed()) {
      violations.push({ field, description: 'contains malformed Unicode (an unpaired surrogate)' });
    }
  }
  return violations;
}

/**
 * The text fields of a submission, shaped so that both the generated SubmitLeadRequest message and
 * the plain web-form submission fit it without either importing the other.
 */
export interface SubmissionText {
  idempotencyKey?: string | undefined;
  visitorId?: string | undefined;
  contact?:
    | {
        email?: string;
        firstName?: string;
        lastName?: string;
        phone?: string;
        company?: string;
        jobTitle?: string;
        country?: string;
        industry?: string;
      }
    | undefined;
  source?:
    | {
        formId?: string;
        pageUrl?: string;
        utmSource?: string;
        utmMedium?: string;
        utmCampaign?: string;
        utmTerm?: string;
        utmContent?: string;
        referrer?: string;
        campaignId?: string;
      }
    | undefined;
  interest?: { product?: string; message?: string } | undefined;
  consent?: { wordingVersion?: string } | undefined;
}

/** Runs findInjection over every text field of a submission; only the interest message may span lines. */
export function findSubmissionInjection(submission: SubmissionText): FieldViolation[] {
  const { contact, source, interest, consent } = submission;
  return findInjection(
    {
      idempotency_key: submission.idempotencyKey,
      visitor_id: submission.visitorId,
      'contact.email': contact?.email,
      'contact.first_name': contact?.firstName,
      'contact.last_name': contact?.lastName,
      'contact.phone': contact?.phone,
      'contact.company': contact?.company,
      'contact.job_title': contact?.jobTitle,
      'contact.country': contact?.country,
      'contact.industry': contact?.industry,
      'source.form_id': source?.formId,
      'source.page_url': source?.pageUrl,
      'source.utm_source': source?.utmSource,
      'source.utm_medium': source?.utmMedium,
      'source.utm_campaign': source?.utmCampaign,
      'source.utm_term': source?.utmTerm,
      'source.utm_content': source?.utmContent,
      'source.referrer': source?.referrer,
      'source.campaign_id': source?.campaignId,
      'interest.product': interest?.product,
      'interest.message': interest?.message,
      'consent.wording_version': consent?.wordingVersion,
    },
    ['interest.message'],
  );
}
