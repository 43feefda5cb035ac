import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';

/**
 * Callers are teams and services holding signed JWTs: stateless to verify in every service (no
 * shared session store on the hot path), expiring, carrying their scopes, and rotated by key id.
 */
export const TOKEN_ISSUER = 'leadmesh';
export const TOKEN_AUDIENCE = 'leadmesh';
export const TOKEN_ALGORITHM = 'EdDSA';

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  /** The public half, as a JWKS the services are configured with. */
  jwks: { keys: JWK[] };
}

export async function generateSigningKey(kid = `leadmesh-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALGORITHM };
  return { kid, privateJwk, jwks: { keys: [publicJwk] } };
}

export interface TokenClaims {
  /** Who calls: a team ("team:web-form") or a service ("service:crm-sync"). */
  subject: string;
  scopes: string[];
  /** Lifetime, e.g. "1h", "365d". */
  expiresIn?: string;
}

export async function mintToken(key: Pick<SigningKey, 'kid' | 'privateJwk'>, claims: TokenClaims): Promise<string> {
  const { importJWK } = await import('jose');
  const privateKey = await importJWK(key.privateJwk, TOKEN_ALGORITHM);
  return new SignJWT({ scope: claims.scopes.join(' ') })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '1h')
    .sign(privateKey);
}
