import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.js';

export class UnauthenticatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

export class PermissionDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermissionDeniedError';
  }
}

/** A verified caller. */
export interface Caller {
  subject: string;
  scopes: ReadonlySet<string>;
}

/**
 * Verifies bearer tokens against the configured public keys (AUTH_JWKS_FILE or AUTH_JWKS_JSON).
 * Without keys, authentication is off, which only a local run may do: AUTH_REQUIRED=true makes a
 * missing key set a start-up error (the deploy overlays set it).
 */
export class Authenticator {
  private readonly keys?: ReturnType<typeof createLocalJWKSet>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const raw = env.AUTH_JWKS_JSON ?? (env.AUTH_JWKS_FILE ? readFileSync(env.AUTH_JWKS_FILE, 'utf8') : undefined);
    if (raw) this.keys = createLocalJWKSet(JSON.parse(raw) as JSONWebKeySet);
    else if (env.AUTH_REQUIRED === 'true') throw new Error('AUTH_REQUIRED=true but neither AUTH_JWKS_FILE nor AUTH_JWKS_JSON is set');
  }

  get enabled(): boolean {
    return this.keys !== undefined;
  }

  /** The caller behind an `authorization: Bearer <token>` value; throws UnauthenticatedError. */
  async authenticate(authorization: string | undefined): Promise<Caller | undefined> {
    if (!this.keys) return undefined;
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new UnauthenticatedError('missing bearer token');
    try {
      const { payload } = await jwtVerify(token, this.keys, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      return { subject: payload.sub ?? 'unknown', scopes: new Set(scopes) };
    } catch (err) {
      // The reason (expired, bad signature) helps the caller; the token itself is never echoed.
      throw new UnauthenticatedError(`invalid token: ${(err as Error).message}`);
    }
  }

  /** Authenticates and checks the scope; returns the caller, or undefined when auth is off. */
  async authorize(authorization: string | undefined, requiredScope: string | undefined): Promise<Caller | undefined> {
    const caller = await this.authenticate(authorization);
    if (caller && requiredScope && !caller.scopes.has(requiredScope)) {
      throw new PermissionDeniedError(`${caller.subject} lacks scope ${requiredScope}`);
    }
    return caller;
  }
}
