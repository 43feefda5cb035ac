import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Authenticator, UnauthenticatedError } from './authenticator.js';
import { generateSigningKey, mintToken } from './tokens.js';

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
    const key = await generateSigningKey();
    const auth = new Authenticator({ AUTH_OIDC_ISSUER: issuer, AUTH_JWKS_JSON: JSON.stringify(key.jwks) });
    const team = await mintToken(key, { subject: 'team:growth', scopes: ['leads:read'] });
    expect((await auth.authenticate(`Bearer ${team}`))?.subject).toBe('team:growth');
    // The provider's key cannot sign a token that claims the platform's issuer.
    await expect(auth.authenticate(`Bearer ${await accessToken({ iss: 'leadmesh' })}`)).rejects.toBeInstanceOf(UnauthenticatedError);
    // And with only the provider configured, a platform token has no key set to pass.
    await expect(new Authenticator({ AUTH_OIDC_ISSUER: issuer }).authenticate(`Bearer ${team}`)).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});
