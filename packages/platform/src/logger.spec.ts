import { Writable } from 'node:stream';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('test', 'info', stream) };
}

describe('createLogger', () => {
  it('redacts addresses and secrets wherever a call site puts them, keeping ids and codes', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        leadId: 'lead-1',
        email: 'ada@example.org',
        contact: { email: 'ada@example.org', recipient: 'ada@example.org' }, reroute: { from: 'owner-1', to: 'owner-2' },
        request: { headers: { authorization: 'Bearer eyJ.secret.sig', cookie: 'session=1' }, query: { key: 'form-token-123' } },
        smtp: { password: 'hunter2' },
        crm: { clientSecret: 'sf-secret', code: 'REQUIRED_FIELD_MISSING' },
        token: 'v1.unsubscribe-token',
      },
      'something happened',
    );
    const line = lines.join('');
    for (const secret of ['ada@example.org', 'eyJ.secret.sig', 'session=1', 'form-token-123', 'hunter2', 'sf-secret', 'v1.unsubscribe-token']) expect(line).not.toContain(secret);
    const entry = JSON.parse(line);
    expect(entry).toMatchObject({ leadId: 'lead-1', reroute: { from: 'owner-1', to: 'owner-2' }, email: '[redacted]', crm: { code: 'REQUIRED_FIELD_MISSING' }, msg: 'something happened' });
  });
});
