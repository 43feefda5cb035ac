import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
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
  /**
   * A company OpenID Connect provider whose access tokens (RFC 9068 JWTs for the audience
   * "leadmesh", scopes granted from the user's groups) the services accept beside the platform's
   * own: the console forwards its signed-in user's token, so each service checks the person's
   * scopes itself. AUTH_OIDC_ISSUER names it; its keys come from AUTH_OIDC_JWKS_URI or, without
   * it, `<issuer>/jwks` (oidc-provider's path), fetched and cached by kid.
   */
  private readonly oidc?: { issuer: string; keys: ReturnType<typeof createRemoteJWKSet> };

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const raw = env.AUTH_JWKS_JSON ?? (env.AUTH_JWKS_FILE ? readFileSync(env.AUTH_JWKS_FILE, 'utf8') : undefined);
    if (raw) this.keys = createLocalJWKSet(JSON.parse(raw) as JSONWebKeySet);
    if (env.AUTH_OIDC_ISSUER) {
      const issuer = env.AUTH_OIDC_ISSUER.replace(/\/$/, '');
      this.oidc = { issuer, keys: createRemoteJWKSet(new URL(env.AUTH_OIDC_JWKS_URI ?? `${issuer}/jwks`), { timeoutDuration: 3000, cooldownDuration: 30_000 }) };
    }
    if (!this.enabled && env.AUTH_REQUIRED === 'true') throw new Error('AUTH_REQUIRED=true but neither AUTH_JWKS_FILE, AUTH_JWKS_JSON nor AUTH_OIDC_ISSUER is set');
  }

  get enabled(): boolean {
    return this.keys !== undefined || this.oidc !== undefined;
  }

  /** The caller behind an `authorization: Bearer <token>` value; throws UnauthenticatedError. */
  async authenticate(authorization: string | undefined): Promise<Caller | undefined> {
    if (!this.enabled) return undefined;
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new UnauthenticatedError('missing bearer token');
    try {
      // The issuer claim only picks the key set; the signature and every claim are then verified.
      const fromProvider = this.oidc !== undefined && safeIssuer(token) === this.oidc.issuer;
      const { payload } = fromProvider
        ? await jwtVerify(token, this.oidc!.keys, { issuer: this.oidc!.issuer, audience: TOKEN_AUDIENCE, typ: 'at+jwt' })
        : await jwtVerify(token, this.keys ?? rejectAll, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      // A person's subject is prefixed so it can never pass for a team or a service.
      const subject = fromProvider ? `user:${payload.sub ?? 'unknown'}` : (payload.sub ?? 'unknown');
      return { subject, scopes: new Set(scopes) };
    } catch (err) {
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

function safeIssuer(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

const rejectAll = async (): Promise<never> => {
  throw new Error('no key set for this issuer');
};
