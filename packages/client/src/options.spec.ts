import { DEFAULT_ADDRESSES, optionsFromEnv } from './options.js';

const files: Record<string, string> = { '/certs/ca.pem': 'CA', '/certs/me.pem': 'CERT', '/certs/me.key': 'KEY' };
const read = (path: string) => {
  if (!(path in files)) throw new Error(`no file ${path}`);
  return Buffer.from(files[path]!);
};

describe('optionsFromEnv', () => {
  it('reads the token, the per-service addresses and the deadline', () => {
    const options = optionsFromEnv({ LEADMESH_TOKEN: 't0k', LEADMESH_CRM_SYNC_ADDR: 'crm-sync:443', LEADMESH_INTAKE_ADDR: 'intake:443', LEADMESH_TIMEOUT_MS: '2500' }, read);
    expect(options).toEqual({ token: 't0k', addresses: { intake: 'intake:443', 'crm-sync': 'crm-sync:443' }, timeoutMs: 2500 });
  });

  it('reads TLS material from the named files', () => {
    const options = optionsFromEnv({ LEADMESH_TLS_CA: '/certs/ca.pem', LEADMESH_TLS_CERT: '/certs/me.pem', LEADMESH_TLS_KEY: '/certs/me.key' }, read);
    expect(options.tls).toEqual({ rootCa: Buffer.from('CA'), clientCert: Buffer.from('CERT'), clientKey: Buffer.from('KEY') });
    expect(optionsFromEnv({ LEADMESH_TLS: '1' }, read).tls).toBe(true);
    expect(optionsFromEnv({}, read).tls).toBeUndefined();
  });

  it('names the variable when the deadline is not a positive number', () => {
    expect(() => optionsFromEnv({ LEADMESH_TIMEOUT_MS: '-1' }, read)).toThrow(/LEADMESH_TIMEOUT_MS/);
  });

  it('defaults to the local ports of DESIGN.md', () => {
    expect(DEFAULT_ADDRESSES).toEqual({ intake: '127.0.0.1:50051', scoring: '127.0.0.1:50052', routing: '127.0.0.1:50053', nurture: '127.0.0.1:50054', 'crm-sync': '127.0.0.1:50055' });
  });
});
