// TLS on the gRPC port when certificates are configured, and mutual TLS when a client CA is.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { intake } from '@leadmesh/contracts';
import { channelCredentials, createClient } from '@leadmesh/platform';
import { ROOT, grpcAddress, startService, stopService, type RunningService } from '../harness/stack.ts';

const OFFSET = 30;
const certs = mkdtempSync(join(tmpdir(), 'leadmesh-certs-'));
execFileSync('bash', [join(ROOT, 'scripts', 'dev-certs.sh'), certs]);
const file = (name: string) => join(certs, name);
let service: RunningService;

const tlsClient = (withClientCert: boolean) =>
  createClient(intake.IntakeService, grpcAddress('intake', OFFSET), {
    timeoutMs: 3000,
    credentials: channelCredentials({
      GRPC_TLS_CA_FILE: file('ca.crt'),
      ...(withClientCert ? { GRPC_TLS_CLIENT_CERT_FILE: file('client.crt'), GRPC_TLS_CLIENT_KEY_FILE: file('client.key') } : {}),
    }),
  });

const lead = () => ({ contact: { email: `tls.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.org`, lastName: 'Secure', company: 'TLS Ltd' } });

beforeAll(async () => {
  service = startService('intake', {
    namespace: 'tls',
    portOffset: OFFSET,
    env: { GRPC_TLS_CERT_FILE: file('server.crt'), GRPC_TLS_KEY_FILE: file('server.key'), GRPC_TLS_CLIENT_CA_FILE: file('ca.crt') },
  });
  // The probe itself speaks mutual TLS.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = tlsClient(true);
    try {
      await client.getLead({ leadId: '00000000-0000-4000-8000-000000000000' });
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.NOT_FOUND) break;
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      client.close();
    }
  }
}, 90_000);

afterAll(async () => {
  await stopService(service);
  rmSync(certs, { recursive: true, force: true });
});

describe('TLS on the gRPC port', () => {
  it('serves a client that presents a certificate from the mesh CA', async () => {
    const client = tlsClient(true);
    try {
      expect((await client.submitLead(lead())).leadId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      client.close();
    }
  });

  it('refuses a TLS client without a certificate, and a plaintext client', async () => {
    const noCert = tlsClient(false);
    const plain = createClient(intake.IntakeService, grpcAddress('intake', OFFSET), { timeoutMs: 3000, credentials: grpc.credentials.createInsecure() });
    try {
      await expect(noCert.submitLead(lead())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      await expect(plain.submitLead(lead())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      noCert.close();
      plain.close();
    }
  });
});

