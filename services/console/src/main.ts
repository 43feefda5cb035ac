import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { createContextValues } from '@connectrpc/connect';
import express, { type NextFunction, type Request, type Response } from 'express';
import { join } from 'node:path';
import { LOGGER, type Logger } from '@leadmesh/platform';
import { ApiRoutes, SESSION } from './api.routes.js';
import { ConsoleModule } from './console.module.js';
import type { ConsoleOptions } from './console.options.js';
import { SESSION_COOKIE, SessionSealer, readCookie, type Session } from './session.js';
import { CONSOLE_OPTIONS } from './tokens.js';

const app = await NestFactory.create(ConsoleModule, { logger: false });
const options = app.get<ConsoleOptions>(CONSOLE_OPTIONS);
const logger = app.get<Logger>(LOGGER);
const sealer = app.get(SessionSealer);
const server = app.getHttpAdapter().getInstance() as express.Express;
server.disable('x-powered-by');

// Every answer: no framing by other sites, no sniffing, scripts and styles only from here.
server.use((_req: Request, res: Response, next: NextFunction) => {
  res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'same-origin');
  next();
});

type WithSession = Request & { consoleSession?: Session };
const origin = new URL(options.publicUrl).origin;
const api = connectNodeAdapter({
  routes: app.get(ApiRoutes).register,
  contextValues: (req) => createContextValues().set(SESSION, (req as unknown as WithSession).consoleSession),
  // The services' answers are bounded by their own page sizes; this only stops an abusive body.
  readMaxBytes: 1024 * 1024,
});
server.use('/api', async (req: WithSession, res: Response, next: NextFunction) => {
  // Calls come from the console's own page only: a cross-site request cannot set the Connect
  // protocol header without a CORS preflight, which is never granted; a stated Origin must be ours.
  if (req.method !== 'POST' || !req.headers['connect-protocol-version'] || (req.headers.origin && req.headers.origin !== origin)) {
    res.status(403).type('text/plain').send('forbidden');
    return;
  }
  try {
    req.consoleSession = await sealer.open<Session>(readCookie(req.headers.cookie, SESSION_COOKIE));
    api(req, res);
  } catch (err) {
    next(err);
  }
});
// The single-page app: its assets, and its shell for every other path (it routes in the browser).
server.use(express.static(options.publicDir, { index: false, maxAge: '5m' }));
server.get(/^\/(?!api\/|auth\/|healthz).*/, (_req: Request, res: Response) => {
  res.setHeader('cache-control', 'no-store');
  res.sendFile(join(options.publicDir, 'index.html'));
});
// Nest adds its controllers (sign-in, probes) and its not-found handler here, after the routes above.
await app.init();
await app.listen(options.port, options.host);
logger.info({ url: options.publicUrl, issuer: options.oidcIssuer }, 'console listening');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
