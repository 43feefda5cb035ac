import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { intake } from '@leadmesh/contracts';
import {
  Authenticator,
  InvalidArgumentError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  isStoreUnavailable,
  validate,
  type FieldViolation,
} from '@leadmesh/platform';
import { parseWebForm, setAsideOptionalFields, type WebFormSubmission } from './domain/web-form.js';
import { IntakeService } from './intake.service.js';

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
 * The web-form and webhook door: JSON or urlencoded bodies, mapped onto SubmitLeadRequest and sent
 * through exactly the validation and use case that gRPC callers get.
 */
@Controller()
export class WebFormController {
  constructor(
    @Inject(IntakeService) private readonly intake: IntakeService,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
  ) {}

  @Get('healthz')
  health(@Res() res: Response): void {
    res.status(200).json({ status: 'ok' });
  }

  @Post('v1/leads')
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      // The same scope as SubmitLead. A plain HTML form cannot set headers, so its submit-only key
      // may come as the `key` query parameter.
      const key = typeof req.query.key === 'string' ? `Bearer ${req.query.key}` : undefined;
      const caller = await this.authenticator.authorize(req.headers.authorization ?? key, 'leads:submit');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      // Read (and so drained) before any refusal, which keeps the client's connection usable.
      const raw = await readBody(req);
      if (!SUBMISSION_TYPES.has(contentType)) throw new HttpError(415, 'use application/json or application/x-www-form-urlencoded');
      // The text as sent, not a parsed object: only the text shows a key or a name given twice.
      const parsed = parseWebForm(raw, contentType);
      if (parsed.violations.length > 0) throw new HttpError(400, 'invalid submission', parsed.violations);
      // The contract's rules, then again after optional fields they fault are set aside (emptied).
      const settled = setAsideOptionalFields(parsed.request, contractViolations(parsed.request));
      if (settled.refusals.length > 0) throw new HttpError(400, 'invalid submission', settled.refusals);
      const message = toMessage(settled.request);
      validate(intake.SubmitLeadRequestSchema, message);
      const { response, notices } = await this.intake.submitLead(message, 'web-form', raw, caller?.subject ?? '', [...parsed.notices, ...settled.notices]);
      res.status(201).json({
        leadId: response.leadId,
        submissionId: response.submissionId,
        outcome: intake.SubmissionOutcome[response.outcome as intake.SubmissionOutcome],
        // Fields the form sent that could not be read: the lead is kept without them.
        notices,
      });
    } catch (err) {
      const { status, body } = toHttpError(err);
      res.status(status).json(body);
    }
  }
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
