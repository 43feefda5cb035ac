import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidArgumentError, UnavailableError, isStoreUnavailable } from '@leadmesh/platform';
import { NurtureService } from './nurture.service.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

const PAGE = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

// The token in the link is a credential for one person's subscription: no Referer carries it to
// another site, no cache or search engine keeps the page.
const PRIVATE_PAGE = { 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' };

const MAX_TOKEN_LENGTH = 512;

/**
 * The unsubscribe link in every email. Link scanners and mail security gateways fetch every URL in
 * an email, so GET only shows a confirmation page, whose button POSTs: a GET never unsubscribes.
 * POST is that confirmation, or RFC 8058 one-click unsubscribe (List-Unsubscribe-Post), which mail
 * clients send without a page view. POST verifies the signed token and does exactly what the
 * Unsubscribe RPC does.
 */
@Controller()
export class UnsubscribeController {
  constructor(@Inject(NurtureService) private readonly nurture: NurtureService) {}

  @Get('healthz')
  health(@Res() res: Response): void {
    res.status(200).json({ status: 'ok' });
  }

  @Get('v1/unsubscribe')
  async page(@Query('token') token: unknown, @Res() res: Response): Promise<void> {
    res.set(PRIVATE_PAGE);
    if (!isTokenShaped(token)) {
      res.status(400).type('html').send(PAGE('This link does not work', '<p>The unsubscribe link is incomplete or altered. Please use the link from the email.</p>'));
      return;
    }
    // The token goes back only into this form, to be verified when the person confirms.
    const action = escapeHtml(`?token=${encodeURIComponent(token)}`);
    res.status(200).type('html').send(
      PAGE(
        'Unsubscribe from our emails?',
        `<p>Confirm and you will receive no more marketing email from us.</p><form method="post" action="${action}"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  }

  @Post('v1/unsubscribe')
  async oneClick(@Query('token') token: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const status = await this.run(token);
    res.set(PRIVATE_PAGE);
    // A person who confirmed on the page gets a page; a mail client's one-click gets a short answer.
    if (wantsHtml(req)) {
      res.status(status).type('html').send(
        status === 200
          ? PAGE('You are unsubscribed', '<p>You will receive no more marketing email from us.</p>')
          : PAGE('This link does not work', status === 400 ? '<p>The unsubscribe link is incomplete or altered. Please use the link from the email.</p>' : '<p>Please try again in a minute.</p>'),
      );
      return;
    }
    res.status(status).json(status === 200 ? { status: 'unsubscribed' } : { error: status === 400 ? 'token: is not a valid unsubscribe token' : 'temporarily unavailable, retry later' });
  }

  private async run(token: unknown): Promise<number> {
    if (!isTokenShaped(token)) return 400;
    try {
      await this.nurture.unsubscribe({ token });
      return 200;
    } catch (err) {
      if (err instanceof InvalidArgumentError) return 400;
      if (err instanceof UnavailableError || isStoreUnavailable(err)) return 503;
      return 500;
    }
  }
}

function isTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && token !== '' && token.length <= MAX_TOKEN_LENGTH;
}

function wantsHtml(req: Request): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes('text/html');
}
