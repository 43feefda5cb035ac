import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, linkToActiveSpan, type Logger } from '@leadmesh/platform';
import { CrmChanges } from './crm-changes.service.js';
import { verifyHubspotSignatureV3 } from './domain/hubspot-signature.js';

/** HubSpot sends at most 100 events a call; a body beyond this is not HubSpot's. */
const MAX_BODY_BYTES = 1_000_000;
const CONTACTS_AT_ONCE = 8;

interface HubspotWebhookEvent {
  subscriptionType?: string;
  objectId?: number | string;
  propertyName?: string;
}

/**
 * HubSpot's webhooks (contact.propertyChange on the owner and lead status properties) for changes
 * that flow back. Every call must carry a valid v3 signature made with the app's client secret
 * within the last five minutes; anything else is 401 and does nothing. The event only names the
 * contact: crm-sync reads the contact as it is now and decides from that, so a late or repeated
 * event cannot set an old value. A failure to read or store answers 503, and HubSpot retries.
 */
@Controller()
export class HubspotWebhookController {
  constructor(
    @Inject(CrmChanges) private readonly changes: CrmChanges,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('healthz')
  health(@Res() res: Response): void {
    res.status(200).json({ status: 'ok' });
  }

  @Post('v1/hubspot/webhooks')
  async receive(@Req() req: Request, @Res() res: Response): Promise<void> {
    const secret = this.changes.settings.hubspotAppSecret;
    if (!secret || this.changes.crm !== 'hubspot') {
      res.status(404).json({ error: 'HubSpot webhooks are not configured (CRM_PROVIDER=hubspot and HUBSPOT_APP_SECRET)' });
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.status(413).json({ error: 'body too large' });
      return;
    }
    const uri = this.changes.settings.hubspotWebhookUrl ?? `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl}`;
    const verdict = verifyHubspotSignatureV3(secret, { method: req.method, uri, body, signature: req.get('x-hubspot-signature-v3'), timestamp: req.get('x-hubspot-request-timestamp') }, new Date());
    if (!verdict.ok) {
      this.logger.warn({ reason: verdict.reason }, 'HubSpot webhook refused: signature');
      res.status(401).json({ error: `signature ${verdict.reason}` });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      res.status(400).json({ error: 'body is not JSON' });
      return;
    }
    const watched = new Set([this.changes.fields.owner, this.changes.fields.status]);
    const contacts = new Set(
      (Array.isArray(parsed) ? (parsed as HubspotWebhookEvent[]) : [])
        .filter((e) => e?.subscriptionType === 'contact.propertyChange' && watched.has(e.propertyName) && e.objectId !== undefined)
        .map((e) => String(e.objectId)),
    );
    const links = linkToActiveSpan();
    let taken = 0;
    try {
      // HubSpot waits a few seconds for the answer and sends up to 100 events a call: a few contacts at a time.
      const ids = [...contacts];
      for (let i = 0; i < ids.length; i += CONTACTS_AT_ONCE) {
        const results = await Promise.all(ids.slice(i, i + CONTACTS_AT_ONCE).map((crmId) => this.changes.takeBackRecord(crmId, links)));
        taken += results.filter(Boolean).length;
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).name }, 'HubSpot webhook not handled; HubSpot retries');
      res.status(503).json({ error: 'temporarily unavailable, retry later' });
      return;
    }
    res.status(200).json({ contacts: contacts.size, taken });
  }
}

async function readBody(req: Request): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
