import { Controller, Get, Inject, Options, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { create, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { isbot } from 'isbot';
import { Counter } from 'prom-client';
import { intake } from '@leadmesh/contracts';
import { InvalidArgumentError, LOGGER, Metrics, validate, type FieldViolation, type Logger } from '@leadmesh/platform';
import { RateLimited, RateLimits } from './rate-limits.js';
import { parseBeaconBatch, type BeaconBatch } from './domain/beacon.js';
import { IntakeService } from './intake.service.js';
import { PersonalizationService, toPersonalizationMessage } from './personalization.service.js';
import { INTAKE_SETTINGS, type IntakeSettings } from './intake.settings.js';
import { PublicKeyRegistry } from './public-keys.provider.js';
import { HttpError, clientAddress, readBody, toHttpError } from './web-form.controller.js';

/**
 * The browser's doors: the tracker's beacons (POST /v1/activities) and the page's personalization
 * read (GET /v1/personalization). A public site key bound to its origins stands in for the bearer
 * token a page cannot keep secret; CORS is answered for exactly those origins.
 */
@Controller('v1')
export class BeaconController {
  private readonly activities: Counter<'outcome'>;

  constructor(
    @Inject(IntakeService) private readonly intake: IntakeService,
    @Inject(PersonalizationService) private readonly personalization: PersonalizationService,
    @Inject(PublicKeyRegistry) private readonly publicKeys: PublicKeyRegistry,
    @Inject(RateLimits) private readonly limits: RateLimits,
    @Inject(INTAKE_SETTINGS) private readonly settings: IntakeSettings,
    @Inject(Metrics) metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.activities = new Counter({
      name: 'leadmesh_beacon_activities_total',
      help: 'Activities reaching the beacon door, by outcome (stored, repeated, bot, refused, limited)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
  }

  // The preflight a browser sends before a request it may not send on its own (the personalization
  // read with a custom header, a fetch fallback): the same site-key check, nothing else.
  @Options(['activities', 'personalization'])
  preflight(@Req() req: Request, @Res() res: Response): void {
    if (!this.admit(req, res)) return;
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', 'content-type');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  }

  @Post('activities')
  async record(@Req() req: Request, @Res() res: Response): Promise<void> {
    let counted = 0;
    try {
      // Read (and so drained) before any refusal, which keeps the browser's connection usable.
      const raw = await readBody(req);
      if (!this.admit(req, res)) return;
      // Crawlers and monitors run scripts too; their page views are no one's interest.
      if (isbot(req.headers['user-agent'] ?? '')) {
        this.activities.inc({ outcome: 'bot' });
        res.status(204).end();
        return;
      }
      const parsed = parseBeaconBatch(raw, new Date());
      if (!parsed.batch) throw new HttpError(400, 'invalid activities', parsed.violations);
      const batch = parsed.batch;
      counted = batch.activities.length;
      contractCheck(batch);
      await this.limits.consumeBeacon(batch.visitorId, clientAddress(req, this.settings.trustProxy), batch.activities.length);
      const { stored, repeated, known } = await this.intake.recordActivities(batch.visitorId, batch.activities);
      this.activities.inc({ outcome: 'stored' }, stored);
      if (repeated) this.activities.inc({ outcome: 'repeated' }, repeated);
      res.status(202).json({ stored, repeated, known });
    } catch (err) {
      this.refuse(res, err, counted);
    }
  }

  @Get('personalization')
  async personalize(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      if (!this.admit(req, res)) return;
      const visitorId = typeof req.query.visitor === 'string' ? req.query.visitor : '';
      const request = create(intake.GetPersonalizationRequestSchema, { visitorId });
      try {
        validate(intake.GetPersonalizationRequestSchema, request);
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw new HttpError(400, 'invalid request', err.violations.map((v) => ({ field: 'visitor', description: v.description })));
        throw err;
      }
      await this.limits.consumeBeacon(visitorId, clientAddress(req, this.settings.trustProxy), 1);
      const decision = await this.personalization.forVisitor(visitorId);
      res.setHeader('Cache-Control', 'no-store');
      res.status(200).json(toJson(intake.PersonalizationSchema, create(intake.PersonalizationSchema, toPersonalizationMessage(decision)), { alwaysEmitImplicit: true }));
    } catch (err) {
      this.refuse(res, err, 0);
    }
  }

  /** The site key's origin check; on success the CORS headers for exactly that origin. */
  private admit(req: Request, res: Response): boolean {
    res.setHeader('Vary', 'Origin');
    const siteKey = typeof req.query.site_key === 'string' ? req.query.site_key : undefined;
    const check = this.publicKeys.site(siteKey, req.headers.origin);
    if (!check.allowed) {
      this.activities.inc({ outcome: 'refused' });
      // No CORS headers: the page on a foreign origin cannot even read why.
      res.status(check.status).json({ error: check.reason });
      return false;
    }
    res.setHeader('Access-Control-Allow-Origin', check.origin);
    return true;
  }

  private refuse(res: Response, err: unknown, activities: number): void {
    if (err instanceof RateLimited) {
      this.activities.inc({ outcome: 'limited' }, activities);
      res.setHeader('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
      res.status(429).json({ error: err.message });
      return;
    }
    const { status, body } = toHttpError(err);
    if (status >= 500) this.logger.error({ err }, 'beacon door failed');
    res.status(status).json(body);
  }
}

/** RecordActivity's rules from the proto, for every activity of the batch, named by its place. */
function contractCheck(batch: BeaconBatch): void {
  const violations: FieldViolation[] = [];
  batch.activities.forEach((a, i) => {
    const request = create(intake.RecordActivityRequestSchema, {
      subject: { case: 'visitorId', value: batch.visitorId },
      type: intake.ActivityType[a.type],
      url: a.url,
      occurredAt: timestampFromDate(a.occurredAt),
      activityId: a.activityId,
    });
    try {
      validate(intake.RecordActivityRequestSchema, request);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      for (const v of err.violations) violations.push({ field: v.field === 'visitor_id' ? 'visitorId' : `activities[${i}].${camel(v.field)}`, description: v.description });
    }
  });
  if (violations.length > 0) throw new HttpError(400, 'invalid activities', violations);
}

const camel = (field: string) => field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
