// TLS and mutual TLS with certificates made by openssl for the test: the client trusts a private CA
// and presents its own certificate when the server demands one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLeadmeshClient } from '../src/index.js';
import { startFakeIntake, type FakeIntake } from './fake-intake.js';

let dir: string;
const pem = (name: string) => readFileSync(join(dir, name));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function issue(name: string, subject: string, extensions: string) {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
  execFileSync('bash', ['-c', `printf '%s\\n' '${extensions}' > ${name}.ext`], { cwd: dir });
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'leadmesh-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=leadmesh test CA');
  issue('server', '/CN=intake', 'subjectAltName=DNS:intake.leadmesh.internal,IP:127.0.0.1');
  issue('client', '/CN=team-analytics', 'extendedKeyUsage=clientAuth');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS', () => {
  let fake: FakeIntake;
  beforeAll(async () => {
    const serverCredentials = grpc.ServerCredentials.createSsl(pem('ca.crt'), [{ private_key: pem('server.key'), cert_chain: pem('server.crt') }], true);
    fake = await startFakeIntake(serverCredentials);
  });
  afterAll(() => fake.close());

  it('calls a mutual-TLS server with a private CA and a client certificate', async () => {
    const client = createLeadmeshClient({
      addresses: { intake: fake.address },
      tls: { rootCa: pem('ca.crt'), clientCert: pem('client.crt'), clientKey: pem('client.key'), serverName: 'intake.leadmesh.internal' },
      token: 'svc-token',
    });
    try {
      const response = await client.intake.submitLead({ contact: { email: 'ada@example.com' } });
      expect(response.leadId).toBe('lead-1');
      expect(fake.received.at(-1)!.metadata.get('authorization')).toEqual(['Bearer svc-token']);
    } finally {
      client.close();
    }
  });

  it('is refused by a mutual-TLS server without a client certificate', async () => {
    const before = fake.received.length;
    const client = createLeadmeshClient({ addresses: { intake: fake.address }, tls: { rootCa: pem('ca.crt') }, retry: { maxAttempts: 1 }, timeoutMs: 2_000 });
    try {
      const err = await client.intake.submitLead({ contact: { email: 'ada@example.com' } }).catch((e) => e);
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(fake.received.length).toBe(before);
    } finally {
      client.close();
    }
  });

  it('will not trust a server whose CA it does not know', async () => {
    const client = createLeadmeshClient({ addresses: { intake: fake.address }, tls: true, retry: { maxAttempts: 1 }, timeoutMs: 2_000 });
    try {
      const err = await client.intake.submitLead({ contact: { email: 'ada@example.com' } }).catch((e) => e);
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it('names the missing half of a client certificate pair', () => {
    expect(() => createLeadmeshClient({ tls: { clientCert: pem('client.crt') } })).toThrow(/clientCert and tls.clientKey/);
  });
});
