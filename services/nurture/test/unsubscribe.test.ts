// The unsubscribe door in every email. Link scanners and mail security gateways fetch every URL in
// an email, so a GET must never unsubscribe: it shows a page whose button POSTs. POST is the
// person's confirmation or RFC 8058 one-click (List-Unsubscribe-Post) from their mail client.
import { jest } from '@jest/globals';
import type { Request, Response } from 'express';
import { InvalidArgumentError } from '@leadmesh/platform';
import type { NurtureService } from '../src/nurture.service.js';
import { UnsubscribeController } from '../src/unsubscribe.controller.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

function response(): { res: Response; answer: Answer } {
  const answer: Answer = { status: 200, headers: {} };
  const res = {
    status(code: number) {
      answer.status = code;
      return res;
    },
    type(type: string) {
      answer.contentType = type;
      return res;
    },
    set(headers: Record<string, string>) {
      Object.assign(answer.headers, headers);
      return res;
    },
    send(body: unknown) {
      answer.body = body;
      return res;
    },
    json(body: unknown) {
      answer.contentType = 'json';
      answer.body = body;
      return res;
    },
  };
  return { res: res as unknown as Response, answer };
}

const request = (accept?: string) => ({ headers: accept ? { accept } : {} }) as Request;

const TOKEN = 'eyJsZWFkSWQiOiJsLTEifQ.c2lnbmF0dXJl';

function controller(unsubscribe = jest.fn(async (_by: { token?: string }) => ({ leadId: 'l-1', unsubscribedAt: new Date() }))) {
  return { door: new UnsubscribeController({ unsubscribe } as unknown as NurtureService), unsubscribe };
}

describe('the unsubscribe link', () => {
  it('shows a confirmation page on GET and unsubscribes nobody', async () => {
    const { door, unsubscribe } = controller();
    const { res, answer } = response();
    await door.page(TOKEN, res);
    expect(unsubscribe).not.toHaveBeenCalled();
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('html');
    const page = String(answer.body);
    // Relative to the page, so the form works behind any path prefix a proxy adds.
    expect(page).toContain(`<form method="post" action="?token=${TOKEN}">`);
    expect(page).toMatch(/<button type="submit">Unsubscribe<\/button>/);
  });

  it('keeps the token from leaking or being cached: no referrer, no store, no index', async () => {
    const { res, answer } = response();
    await controller().door.page(TOKEN, res);
    expect(answer.headers).toMatchObject({ 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
  });

  it('escapes the token in the page, whatever a forged link carries', async () => {
    const { res, answer } = response();
    await controller().door.page('"><script>alert(1)</script>', res);
    expect(String(answer.body)).not.toContain('<script>');
  });

  it('answers a GET without a token with a 400 page, and still unsubscribes nobody', async () => {
    const { door, unsubscribe } = controller();
    const { res, answer } = response();
    await door.page(undefined, res);
    expect(answer.status).toBe(400);
    expect(unsubscribe).not.toHaveBeenCalled();
  });

  it('unsubscribes on the RFC 8058 one-click POST, answering the mail client plainly', async () => {
    const { door, unsubscribe } = controller();
    const { res, answer } = response();
    await door.oneClick(TOKEN, request(), res);
    expect(unsubscribe).toHaveBeenCalledWith({ token: TOKEN });
    expect(answer).toMatchObject({ status: 200, contentType: 'json', body: { status: 'unsubscribed' } });
  });

  it('unsubscribes on the confirmation page\'s POST, answering the browser with a page', async () => {
    const { door, unsubscribe } = controller();
    const { res, answer } = response();
    await door.oneClick(TOKEN, request('text/html,application/xhtml+xml,*/*;q=0.8'), res);
    expect(unsubscribe).toHaveBeenCalledWith({ token: TOKEN });
    expect(answer.status).toBe(200);
    expect(String(answer.body)).toContain('You are unsubscribed');
  });

  it('refuses an altered token on POST with 400', async () => {
    const { door } = controller(jest.fn(async () => {
      throw new InvalidArgumentError([{ field: 'token', description: 'is not a valid unsubscribe token' }]);
    }));
    const { res, answer } = response();
    await door.oneClick(`${TOKEN}AAA`, request(), res);
    expect(answer.status).toBe(400);
  });
});
