import { Controller, Get, Inject, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { InvalidArgumentError, UnavailableError, isStoreUnavailable } from '@leadmesh/platform';
import { NurtureService } from './nurture.service.js';

const PAGE = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>`;

/**
 * The unsubscribe link in every email. GET is the link a person clicks; POST is RFC 8058
 * one-click unsubscribe (List-Unsubscribe-Post), which mail clients send without a page view.
 * Both verify the signed token and do exactly what the Unsubscribe RPC does.
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
    const status = await this.run(token);
    res.status(status).type('html').send(
      status === 200
        ? PAGE('You are unsubscribed', 'You will receive no more marketing email from us.')
        : PAGE('This link does not work', status === 400 ? 'The unsubscribe link is incomplete or altered. Please use the link from the email.' : 'Please try again in a minute.'),
    );
  }

  @Post('v1/unsubscribe')
  async oneClick(@Query('token') token: unknown, @Res() res: Response): Promise<void> {
    const status = await this.run(token);
    res.status(status).json(status === 200 ? { status: 'unsubscribed' } : { error: status === 400 ? 'token: is not a valid unsubscribe token' : 'temporarily unavailable, retry later' });
  }

  private async run(token: unknown): Promise<number> {
    if (typeof token !== 'string' || token === '' || token.length > 512) return 400;
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
