// The audit record of privileged calls, as every service gets it from the platform: a gRPC server
// on the real FerretDB serving ParkedEventsService (whose replay is marked audited in the proto)
// and AuditService. Each replay is recorded with the caller's identity, its target and outcome,
// failed ones too; a call not marked privileged is not; the record is read over gRPC, newest first,
// by caller and page, with its own scope.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { audit, parkedevents } from '@leadmesh/contracts';
import { AuditLog, Authenticator, GrpcServer, Metrics, MongoStore, NotFoundError, createClient, createLogger, generateSigningKey, mintToken, type SigningKey } from '@leadmesh/platform';

const logger = createLogger('audit-test', 'silent');
const store = new MongoStore('mongodb://127.0.0.1:27017/', `leadmesh_platform_audit_${randomUUID().slice(0, 8)}`, logger);
const auditLog = new AuditLog(store, 'scoring', logger);
let key: SigningKey;
let server: GrpcServer;
let address: string;
const replayed: string[] = [];

const token = (subject: string, scopes: string[]) => mintToken(key, { subject, scopes });

beforeAll(async () => {
  key = await generateSigningKey('audit-test');
  store.start();
  await store.ready();
  server = new GrpcServer(logger, new Metrics('audit-test'), new Authenticator({ AUTH_JWKS_JSON: JSON.stringify(key.jwks) }), undefined, auditLog);
  server.register(parkedevents.ParkedEventsService, {
    listParkedEvents: async () => ({}),
    replayParkedEvents: async (request) => {
      if (request.target.case === 'sequence' && request.target.value === 13n) throw new NotFoundError('no parked event 13');
      replayed.push(request.target.case === 'sequence' ? String(request.target.value) : 'all');
      return { replayed: 1 };
    },
  });
  server.register(audit.AuditService, { listAuditRecords: (request) => auditLog.list(request.pageSize, request.pageToken, request.caller) });
  address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  server.setServing(true);
}, 60_000);

afterAll(async () => {
  await server.close(100);
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
});

const parkedClient = (bearer: string) => createClient(parkedevents.ParkedEventsService, address, { token: bearer, timeoutMs: 10_000 });

async function as<T>(subject: string, scopes: string[], call: (client: ReturnType<typeof parkedClient>) => Promise<T>): Promise<T> {
  const client = parkedClient(await token(subject, scopes));
  try {
    return await call(client);
  } finally {
    client.close();
  }
}

async function records(subject: string, scopes: string[], request: { pageSize?: number; pageToken?: string; caller?: string } = {}) {
  const client = createClient(audit.AuditService, address, { token: await token(subject, scopes), timeoutMs: 10_000 });
  try {
    return await client.listAuditRecords(request);
  } finally {
    client.close();
  }
}

describe('the audit record of privileged calls', () => {
  it('records every replay with who called, on what and how it ended, and reads back over gRPC', async () => {
    await as('user:mia', ['events:replay'], (c) => c.replayParkedEvents({ target: { case: 'sequence', value: 7n } }));
    await expect(as('user:mia', ['events:replay'], (c) => c.replayParkedEvents({ target: { case: 'sequence', value: 13n } }))).rejects.toMatchObject({ code: status.NOT_FOUND });
    await as('team:ops', ['events:replay'], (c) => c.replayParkedEvents({ target: { case: 'all', value: true } }));
    // Not privileged: a read leaves no record.
    await as('user:mia', ['events:replay'], (c) => c.listParkedEvents({}));
    // Refused before it runs: no privilege was used.
    await expect(as('user:vic', ['leads:read'], (c) => c.replayParkedEvents({ target: { case: 'all', value: true } }))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(replayed).toEqual(['7', 'all']);

    const { records: all } = await records('user:auditor', ['audit:read']);
    expect(all.map((r) => [r.caller, r.method, r.target, r.outcome])).toEqual([
      ['team:ops', 'leadmesh.parkedevents.v1.ParkedEventsService/ReplayParkedEvents', 'all=true', 'OK'],
      ['user:mia', 'leadmesh.parkedevents.v1.ParkedEventsService/ReplayParkedEvents', 'sequence=13', 'NOT_FOUND'],
      ['user:mia', 'leadmesh.parkedevents.v1.ParkedEventsService/ReplayParkedEvents', 'sequence=7', 'OK'],
    ]);
    for (const r of all) {
      expect(r.service).toBe('scoring');
      expect(r.calledAt).toBeDefined();
      expect(r.finishedAt).toBeDefined();
    }

    const mine = await records('user:auditor', ['audit:read'], { caller: 'user:mia' });
    expect(mine.records.map((r) => r.target)).toEqual(['sequence=13', 'sequence=7']);
    const first = await records('user:auditor', ['audit:read'], { pageSize: 2 });
    expect(first.records).toHaveLength(2);
    const rest = await records('user:auditor', ['audit:read'], { pageSize: 2, pageToken: first.nextPageToken });
    expect(rest.records.map((r) => r.target)).toEqual(['sequence=7']);
    expect(rest.nextPageToken).toBe('');
  });

  it('is read only with audit:read', async () => {
    await expect(records('user:mia', ['events:replay'])).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(records('user:auditor', ['audit:read'], { pageToken: 'not-a-token' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
