import { randomUUID } from 'node:crypto';
import { Controller, Get, Inject, Options, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { trace } from '@opentelemetry/api';
import { Counter } from 'prom-client';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { intake } from '@leadmesh/contracts';
import {
  Authenticator,
  InvalidArgumentError,
  LOGGER,
  Metrics,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  isStoreUnavailable,
  validate,
  type FieldViolation,
  type Logger,
} from '@leadmesh/platform';
import { normaliseEmail } from './domain/normalise.js';
import { parseWebForm, setAsideOptionalFields, type WebFormSubmission } from './domain/web-form.js';
import { IntakeService } from './intake.service.js';
import { INTAKE_SETTINGS, type IntakeSettings } from './intake.settings.js';
import { PublicKeyRegistry } from './public-keys.provider.js';
import { RateLimited, RateLimits } from './rate-limits.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;
const SUBMISSION_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded']);

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly violations: FieldViolation[] = [],
  ) {
    super(message);
  }
}

/**
 * Who is submitting. A browser form posts with its public form key (`?form_key=`), bound to one
 * form and its origins; a server (a MAP webhook, a site's own backend) with a bearer token in its
 * header. Public-key submissions are counted per client address, key and recipient, since anyone
 * can read the key from the page.
 */
type Submitter =
  | { kind: 'form-key'; subject: string; limitKey: string; formKey: string; origin: string }
  | { kind: 'query-token'; subject: string; limitKey: string }
  | { kind: 'bearer'; subject: string };

/**
 * The web-form and webhook door: JSON or urlencoded bodies, mapped onto SubmitLeadRequest and sent
 * through exactly the validation and use case that gRPC callers get.
 */
@Controller()
export class WebFormController {
  private readonly refused: Counter<'reason'>;

  constructor(
    @Inject(IntakeService) private readonly intake: IntakeService,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(PublicKeyRegistry) private readonly publicKeys: PublicKeyRegistry,
    @Inject(RateLimits) private readonly limits: RateLimits,
    @Inject(INTAKE_SETTINGS) private readonly settings: IntakeSettings,
    @Inject(Metrics) metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.refused = new Counter({
      name: 'leadmesh_web_form_refused_total',
      help: 'Web form submissions dropped as abuse, by reason: honeypot (answered like a success), or the limit they hit (form-address, form-key, recipient)',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
  }

  @Get('healthz')
  health(@Res() res: Response): void {
    res.status(200).json({ status: 'ok' });
  }

  // A form that posts with fetch() (JSON) is preflighted: the form key's origin check, nothing else.
  @Options('v1/leads')
  preflight(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('Vary', 'Origin');
    const check = this.publicKeys.form(queryString(req, 'form_key'), req.headers.origin, '');
    if (!check.allowed) {
      res.status(check.status).json({ error: check.reason });
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', check.origin);
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'content-type');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  }

  @Post('v1/leads')
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Vary', 'Origin');
    try {
      const submitter = await this.admit(req);
      if (submitter.kind === 'form-key') res.setHeader('Access-Control-Allow-Origin', submitter.origin);
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      // Read (and so drained) before any refusal, which keeps the client's connection usable.
      const raw = await readBody(req);
      if (!SUBMISSION_TYPES.has(contentType)) throw new HttpError(415, 'use application/json or application/x-www-form-urlencoded');
      // The text as sent, not a parsed object: only the text shows a key or a name given twice.
      const parsed = parseWebForm(raw, contentType, { honeypot: this.settings.honeypotField });
      if (parsed.trapped) {
        // A bot: answered as a person would be, so it learns nothing to adapt to; nothing stored or sent.
        this.refused.inc({ reason: 'honeypot' });
        res.status(201).json({ leadId: randomUUID(), submissionId: randomUUID(), outcome: intake.SubmissionOutcome[intake.SubmissionOutcome.NEW_LEAD], notices: parsed.notices });
        return;
      }
      if (parsed.violations.length > 0) throw new HttpError(400, 'invalid submission', parsed.violations);
      // The contract's rules, then again after optional fields they fault are set aside (emptied).
      const settled = setAsideOptionalFields(parsed.request, contractViolations(parsed.request));
      if (settled.refusals.length > 0) throw new HttpError(400, 'invalid submission', settled.refusals);
      if (submitter.kind === 'form-key') {
        // The key submits its own form only; a submission that names none is that form's.
        const check = this.publicKeys.form(submitter.formKey, req.headers.origin, settled.request.source.formId);
        if (!check.allowed) throw new HttpError(check.status, check.reason);
        settled.request.source.formId = check.form;
      }
      const message = toMessage(settled.request);
      validate(intake.SubmitLeadRequestSchema, message);
      if (submitter.kind !== 'bearer') {
        await this.limits.consumeWebForm({ address: clientAddress(req, this.settings.trustProxy), key: submitter.limitKey, recipient: normaliseEmail(message.contact!.email) });
      }
      const { response, notices } = await this.intake.submitLead(message, 'web-form', raw, submitter.subject, [...parsed.notices, ...settled.notices]);
      res.status(201).json({
        leadId: response.leadId,
        submissionId: response.submissionId,
        outcome: intake.SubmissionOutcome[response.outcome as intake.SubmissionOutcome],
        // Fields the form sent that could not be read: the lead is kept without them.
        notices,
      });
    } catch (err) {
      if (err instanceof RateLimited) {
        this.refused.inc({ reason: err.limit });
        // The kind of limit only: the address and the recipient stay out of logs and spans.
        trace.getActiveSpan()?.setAttribute('leadmesh.rate_limit', err.limit);
        this.logger.warn({ limit: err.limit }, 'web form submission over its limit');
        res.setHeader('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
        res.status(429).json({ error: err.message });
        return;
      }
      const { status, body } = toHttpError(err);
      res.status(status).json(body);
    }
  }

  private async admit(req: Request): Promise<Submitter> {
    const formKey = queryString(req, 'form_key');
    if (formKey !== undefined) {
      const check = this.publicKeys.form(formKey, req.headers.origin, '');
      if (!check.allowed) throw new HttpError(check.status, check.reason);
      return { kind: 'form-key', subject: `form-key:${formKey}`, limitKey: formKey, formKey, origin: check.origin };
    }
    const queryToken = queryString(req, 'key');
    if (req.headers.authorization === undefined && queryToken !== undefined) {
      // The retired way: a general leads:submit token in the page's URL, usable from anywhere for any form.
      if (!this.settings.acceptQueryToken) throw new HttpError(401, "key: a token in the URL is no longer accepted; post with the form's form_key");
      const caller = await this.authenticator.authorize(`Bearer ${queryToken}`, 'leads:submit');
      this.logger.warn('web form token in the URL (retired: give the form a form key)');
      const subject = caller?.subject ?? '';
      return { kind: 'query-token', subject, limitKey: `token:${subject}` };
    }
    // The same scope as SubmitLead.
    const caller = await this.authenticator.authorize(req.headers.authorization, 'leads:submit');
    return { kind: 'bearer', subject: caller?.subject ?? '' };
  }
}

const queryString = (req: Request, name: string): string | undefined => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);

/**
 * The client's address: the socket's, or with HTTP_TRUST_PROXY=true the address the load balancer
 * in front of intake put first in X-Forwarded-For (a client can prepend anything, so only behind a
 * proxy that overwrites it).
 */
export function clientAddress(req: Request, trustProxy: boolean): string {
  const forwarded = trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0]!.trim() : '';
  return forwarded || req.socket.remoteAddress || 'unknown';
}

function toMessage(submission: WebFormSubmission): intake.SubmitLeadRequest {
  const { givenAt, ...consent } = submission.consent;
  return create(intake.SubmitLeadRequestSchema, {
    ...submission,
    consent: { ...consent, givenAt: givenAt ? timestampFromDate(givenAt) : undefined },
  });
}

/** What the proto's rules (protovalidate) find in the submission; none when it is valid. */
function contractViolations(submission: WebFormSubmission): FieldViolation[] {
  try {
    validate(intake.SubmitLeadRequestSchema, toMessage(submission));
    return [];
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.violations;
    throw err;
  }
}

export async function readBody(req: Request): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit the rest is read and dropped, so the client's connection stays usable for its
    // next request; past a hard cap the connection is cut.
    if (size > MAX_DRAIN_BYTES) {
      req.destroy();
      break;
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  const buffer = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw new HttpError(400, 'body is not valid UTF-8', [{ field: 'body', description: 'must be UTF-8 text' }]);
  }
}

export function toHttpError(err: unknown): { status: number; body: { error: string; violations?: FieldViolation[] } } {
  if (err instanceof UnauthenticatedError) return { status: 401, body: { error: err.message } };
  if (err instanceof PermissionDeniedError) return { status: 403, body: { error: err.message } };
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message, violations: err.violations } };
  if (err instanceof InvalidArgumentError) return { status: 400, body: { error: 'invalid submission', violations: err.violations } };
  if (err instanceof UnavailableError || isStoreUnavailable(err)) return { status: 503, body: { error: 'temporarily unavailable, retry later' } };
  return { status: 500, body: { error: 'internal error' } };
}
