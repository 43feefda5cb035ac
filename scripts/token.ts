// Credentials for leadmesh callers.
//   npm run -s token -- keygen [folder]                       a signing key (private, 0600) and its public JWKS
//   npm run -s token -- mint <signing.json> <subject> <scope,...> [lifetime]
// The services trust the public JWKS (AUTH_JWKS_FILE); the private key stays with whoever issues
// tokens (a secret manager in production, .cache/auth on a laptop) and never enters the repo.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey, mintToken } from '../packages/platform/dist/auth/tokens.js';

const [command, ...args] = process.argv.slice(2);

if (command === 'keygen') {
  const folder = args[0] ?? '.cache/auth';
  mkdirSync(folder, { recursive: true });
  const key = await generateSigningKey();
  writeFileSync(join(folder, 'signing.json'), JSON.stringify(key));
  chmodSync(join(folder, 'signing.json'), 0o600);
  writeFileSync(join(folder, 'jwks.json'), JSON.stringify(key.jwks, null, 2));
  console.log(join(folder, 'jwks.json'));
} else if (command === 'mint' && args.length >= 3) {
  const [keyFile, subject, scopes, lifetime] = args as [string, string, string, string | undefined];
  const key = JSON.parse(readFileSync(keyFile, 'utf8'));
  console.log(await mintToken(key, { subject, scopes: scopes.split(',').filter(Boolean), expiresIn: lifetime ?? '30d' }));
} else {
  console.error('usage: token keygen [folder] | token mint <signing.json> <subject> <scope,...> [lifetime]');
  process.exit(2);
}
