// The local backbone's credentials, made once per machine outside the repo (scripts/infra.sh calls
// this with its run folder): an nkey seed per NATS user (each service and the admin) and a
// throw-away CA with the server's TLS certificate for 127.0.0.1/localhost. Only the public keys
// reach the server (users.env); each seed stays with the one who connects with it. Never committed,
// never for production (deploy/k8s/README.md says where a cluster's come from).
//   node scripts/nats-credentials.ts <folder>
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser, fromSeed } from '@nats-io/nkeys';

const USERS = ['admin', 'intake', 'scoring', 'routing', 'nurture', 'crm-sync'];
const folder = process.argv[2];
if (!folder) throw new Error('usage: node scripts/nats-credentials.ts <folder>');
mkdirSync(folder, { recursive: true, mode: 0o700 });

const env: string[] = [];
for (const user of USERS) {
  const seedFile = join(folder, `${user}.nk`);
  if (!existsSync(seedFile)) {
    writeFileSync(seedFile, `${new TextDecoder().decode(createUser().getSeed())}\n`, { mode: 0o600 });
    chmodSync(seedFile, 0o600);
  }
  const publicKey = fromSeed(new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim())).getPublicKey();
  env.push(`LEADMESH_NATS_NKEY_${user.toUpperCase().replace(/-/g, '_')}=${publicKey}`);
}
writeFileSync(join(folder, 'users.env'), `${env.join('\n')}\n`);

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] });
if (!existsSync(join(folder, 'server.crt'))) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=leadmesh local NATS CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=leadmesh local NATS');
  writeFileSync(join(folder, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-out', 'server.crt', '-extfile', 'server.ext');
  for (const key of ['ca.key', 'server.key']) chmodSync(join(folder, key), 0o600);
}
process.stdout.write(`${folder}\n`);
