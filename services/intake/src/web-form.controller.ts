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
import { parseWebForm } from './domain/web-form.js';
import { IntakeService } from './intake.service.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

class HttpError extends Error {
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
      const raw = await readBody(req);
      const body = decode(raw, contentType);
      const { request, violations } = parseWebForm(body, contentType);
      if (violations.length > 0) throw new HttpError(400, 'invalid submission', violations);
      const { givenAt, ...consent } = request.consent;
      const message = create(intake.SubmitLeadRequestSchema, {
        ...request,
        consent: { ...consent, givenAt: givenAt ? timestampFromDate(givenAt) : undefined },
      });
      validate(intake.SubmitLeadRequestSchema, message);
      const result = await this.intake.submitLead(message, 'web-form', raw, caller?.subject ?? '');
      res.status(201).json({
        leadId: result.leadId,
        submissionId: result.submissionId,
        outcome: intake.SubmissionOutcome[result.outcome as intake.SubmissionOutcome],
      });
    } catch (err) {
      const { status, body } = toHttpError(err);
      res.status(status).json(body);
    }
  }
}

async function readBody(req: Request): Promise<string> {
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

function decode(raw: string, contentType: string): unknown {
  if (contentType === 'application/json') {
    try {
      return JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'body is not valid JSON', [{ field: 'body', description: 'must be a JSON object' }]);
    }
  }
  if (contentType === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(raw)) fields[key] = value;
    return fields;
  }
  throw new HttpError(415, 'use application/json or application/x-www-form-urlencoded');
}

function toHttpError(err: unknown): { status: number; body: { error: string; violations?: FieldViolation[] } } {
  if (err instanceof UnauthenticatedError) return { status: 401, body: { error: err.message } };
  if (err instanceof PermissionDeniedError) return { status: 403, body: { error: err.message } };
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message, violations: err.violations } };
  if (err instanceof InvalidArgumentError) return { status: 400, body: { error: 'invalid submission', violations: err.violations } };
  if (err instanceof UnavailableError || isStoreUnavailable(err)) return { status: 503, body: { error: 'temporarily unavailable, retry later' } };
  return { status: 500, body: { error: 'internal error' } };
}
