import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, type Logger } from '@leadmesh/platform';
import { CONSOLE_OPTIONS } from './tokens.js';
import type { ConsoleOptions } from './console.options.js';
import { OidcClient } from './oidc.client.js';
import { LOGIN_COOKIE, SESSION_COOKIE, SessionSealer, cookie, readCookie, type LoginTransaction } from './session.js';

/** Sign-in and sign-out, and the probes. */
@Controller()
export class AuthController {
  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: ConsoleOptions,
    @Inject(OidcClient) private readonly oidc: OidcClient,
    @Inject(SessionSealer) private readonly sealer: SessionSealer,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get secure(): boolean {
    return this.options.publicUrl.startsWith('https:');
  }

  @Get('auth/login')
  async login(@Req() req: Request, @Res() res: Response): Promise<void> {
    // Only a path of this console to come back to, never another site (no open redirect).
    const asked = typeof req.query.returnTo === 'string' ? req.query.returnTo : '/';
    const returnTo = asked.startsWith('/') && !asked.startsWith('//') ? asked : '/';
    try {
      const { url, transaction } = await this.oidc.startLogin(returnTo);
      res.setHeader('set-cookie', cookie(LOGIN_COOKIE, await this.sealer.seal(transaction, Math.floor(Date.now() / 1000) + 600), { maxAge: 600, secure: this.secure, path: '/auth' }));
      res.redirect(302, url.href);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'identity provider unreachable');
      res.status(503).type('text/plain').send('The sign-in service is not reachable right now. Try again in a minute.');
    }
  }

  @Get('auth/callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const transaction = await this.sealer.open<LoginTransaction>(readCookie(req.headers.cookie, LOGIN_COOKIE));
    if (!transaction) {
      res.redirect(302, '/auth/login');
      return;
    }
    try {
      const session = await this.oidc.finishLogin(new URL(req.originalUrl, this.options.publicUrl), transaction);
      const maxAge = session.expiresAt - Math.floor(Date.now() / 1000);
      res.setHeader('set-cookie', [
        cookie(SESSION_COOKIE, await this.sealer.seal(session, session.expiresAt), { maxAge, secure: this.secure }),
        cookie(LOGIN_COOKIE, '', { maxAge: 0, secure: this.secure, path: '/auth' }),
      ]);
      this.logger.info({ user: session.sub, scopes: session.scopes }, 'signed in');
      res.redirect(302, transaction.returnTo);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'sign-in refused');
      res.status(400).type('text/plain').send('Sign-in failed. Go back to the console and sign in again.');
    }
  }

  @Post('auth/logout')
  async logout(@Res() res: Response): Promise<void> {
    res.setHeader('set-cookie', cookie(SESSION_COOKIE, '', { maxAge: 0, secure: this.secure }));
    const provider = await this.oidc.logoutUrl();
    res.redirect(303, provider?.href ?? '/');
  }

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz(): string {
    return 'ok';
  }
}
