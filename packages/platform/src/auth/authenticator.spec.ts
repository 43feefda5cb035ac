import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import { Authenticator, UnauthenticatedError } from './authenticator.js';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, generateSigningKey, mintToken, type SigningKey } from './tokens.js';

let key: SigningKey;
let dir: string;
beforeAll(async () => {
  key = await generateSigningKey('current');
  dir = mkdtempSync(join(tmpdir(), 'leadmesh-auth-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bearer = (token: string) => `Bearer ${token}`;
const authenticator = () => new Authenticator({ AUTH_JWKS_JSON: JSON.stringify(key.jwks) });

/** A token signed with the right key, with claims chosen by the test. */
async function signed(build: (jwt: SignJWT) => SignJWT, alg = 'EdDSA'): Promise<string> {
  const jwt = new SignJWT({ scope: 'leads:read' }).setProtectedHeader({ alg, kid: key.kid });
  return build(jwt).sign(await importJWK(key.privateJwk, 'EdDSA'));
}

describe('Authenticator: hostile tokens', () => {
  it('accepts a token the platform mints', async () => {
    const caller = await authenticator().authenticate(bearer(await mintToken(key, { subject: 'team:ok', scopes: ['leads:read'] })));
    expect(caller?.subject).toBe('team:ok');
  });

  it('refuses a token without an expiry', async () => {
    const token = await signed((j) => j.setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:forever').setIssuedAt());
    await expect(authenticator().authenticate(bearer(token))).rejects.toThrow(/"exp" claim/);
  });

  it('refuses an expired token, and a wrong issuer or audience', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await signed((j) => j.setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:late').setIssuedAt(past - 3600).setExpirationTime(past));
    await expect(authenticator().authenticate(bearer(expired))).rejects.toThrow(/exp/);
    const issuer = await signed((j) => j.setIssuer('someone-else').setAudience(TOKEN_AUDIENCE).setSubject('team:x').setExpirationTime('1h'));
    await expect(authenticator().authenticate(bearer(issuer))).rejects.toThrow(/"iss" claim/);
    const audience = await signed((j) => j.setIssuer(TOKEN_ISSUER).setAudience('another-api').setSubject('team:x').setExpirationTime('1h'));
    await expect(authenticator().authenticate(bearer(audience))).rejects.toThrow(/"aud" claim/);
  });

  it('refuses alg none, and an algorithm other than EdDSA', async () => {
    const none = new UnsecuredJWT({ scope: 'leads:read' }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('team:none').setExpirationTime('1h').encode();
    await expect(authenticator().authenticate(bearer(none))).rejects.toThrow(/invalid token/);
    // An HMAC token keyed with bytes anyone could know: refused for its algorithm, before any key is tried.
    const hmac = await new SignJWT({ scope: 'leads:read' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject('team:hmac')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(JSON.stringify(key.jwks.keys[0])));
    await expect(authenticator().authenticate(bearer(hmac))).rejects.toThrow(/"alg" \(Algorithm\) Header Parameter value not allowed/);
  });

  it('refuses a token signed by a key it does not know', async () => {
    const stranger = await generateSigningKey('stranger');
    await expect(authenticator().authenticate(bearer(await mintToken(stranger, { subject: 'team:x', scopes: [] })))).rejects.toThrow(/no applicable key/i);
  });
});

describe('Authenticator: key rotation', () => {
  it('takes a key added to the key file without a restart, and still refuses an unknown one', async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(key.jwks));
    const auth = new Authenticator({ AUTH_JWKS_FILE: file }, 0);
    const next = await generateSigningKey('next');
    const token = await mintToken(next, { subject: 'team:rotated', scopes: [] });
    await expect(auth.authenticate(bearer(token))).rejects.toThrow(/no applicable key/i);
    // The platform team publishes the new public key beside the old one, then signs with it.
    writeFileSync(file, JSON.stringify({ keys: [...key.jwks.keys, ...next.jwks.keys] }));
    expect((await auth.authenticate(bearer(token)))?.subject).toBe('team:rotated');
    expect((await auth.authenticate(bearer(await mintToken(key, { subject: 'team:old', scopes: [] }))))?.subject).toBe('team:old');
  });

  it('reads the file again at most once per interval', async () => {
    const file = join(dir, 'jwks-slow.json');
    writeFileSync(file, JSON.stringify(key.jwks));
    const auth = new Authenticator({ AUTH_JWKS_FILE: file }, 60_000);
    const next = await generateSigningKey('later');
    writeFileSync(file, JSON.stringify({ keys: [...key.jwks.keys, ...next.jwks.keys] }));
    // Within the interval since start a flood of unknown-key tokens cannot make it read the file.
    await expect(auth.authenticate(bearer(await mintToken(next, { subject: 'team:x', scopes: [] })))).rejects.toThrow(/no applicable key/i);
  });
});

// An OpenID Connect provider's access tokens are trusted beside the platform's own, each only with
// its own keys, issuer, audience and token type.
describe('Authenticator with an OpenID Connect provider', () => {
  let server: Server;
  let issuer: string;
  let privateKey: CryptoKey;
  const kid = 'provider-key';

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    privateKey = pair.privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' }] });
    server = createServer((req, res) => (req.url === '/jwks' ? res.writeHead(200, { 'content-type': 'application/json' }).end(jwks) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const accessToken = (claims: { iss?: string; aud?: string; typ?: string; scope?: string; key?: CryptoKey } = {}) =>
    new SignJWT({ scope: claims.scope ?? 'leads:read rules:admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: claims.typ ?? 'at+jwt' })
      .setIssuer(claims.iss ?? issuer)
      .setAudience(claims.aud ?? 'leadmesh')
      .setSubject('mia')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(claims.key ?? privateKey);

  it("takes the provider's access token with the user's scopes, as a user subject", async () => {
    const auth = new Authenticator({ AUTH_OIDC_ISSUER: issuer });
    const caller = await auth.authorize(`Bearer ${await accessToken()}`, 'rules:admin');
    expect(caller?.subject).toBe('user:mia');
    expect([...caller!.scopes]).toEqual(['leads:read', 'rules:admin']);
  });

  it('refuses a token for another audience, of another type, or signed by another key', async () => {
    const auth = new Authenticator({ AUTH_OIDC_ISSUER: issuer });
    const other = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
    for (const token of [await accessToken({ aud: 'someone-else' }), await accessToken({ typ: 'JWT' }), await accessToken({ key: other })]) {
      await expect(auth.authenticate(`Bearer ${token}`)).rejects.toBeInstanceOf(UnauthenticatedError);
    }
  });

  it("keeps the platform's own tokens working beside it, and neither key set signs for the other", async () => {
    const platformKey = await generateSigningKey();
    const auth = new Authenticator({ AUTH_OIDC_ISSUER: issuer, AUTH_JWKS_JSON: JSON.stringify(platformKey.jwks) });
    const team = await mintToken(platformKey, { subject: 'team:growth', scopes: ['leads:read'] });
    expect((await auth.authenticate(`Bearer ${team}`))?.subject).toBe('team:growth');
    // The provider's key cannot sign a token that claims the platform's issuer.
    await expect(auth.authenticate(`Bearer ${await accessToken({ iss: 'leadmesh' })}`)).rejects.toBeInstanceOf(UnauthenticatedError);
    // And with only the provider configured, a platform token has no key set to pass.
    await expect(new Authenticator({ AUTH_OIDC_ISSUER: issuer }).authenticate(`Bearer ${team}`)).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});
