import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.js';

/** How often at most a token signed by an unknown key makes the key file be read again. */
const JWKS_RELOAD_INTERVAL_MS = 10_000;
/** What a company OpenID Connect provider may sign access tokens with: asymmetric only, never none or HMAC. */
const OIDC_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'];

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
  private keys?: ReturnType<typeof createLocalJWKSet>;
  /** The mounted key file, read again when a token names a key it does not hold (rotation). */
  private readonly keyFile?: string;
  private lastReload = 0;
  /**
   * A company OpenID Connect provider whose access tokens (RFC 9068 JWTs for the audience
   * "leadmesh", scopes granted from the user's groups) the services accept beside the platform's
   * own: the console forwards its signed-in user's token, so each service checks the person's
   * scopes itself. AUTH_OIDC_ISSUER names it; its keys come from AUTH_OIDC_JWKS_URI or, without
   * it, `<issuer>/jwks` (oidc-provider's path), fetched and cached by kid (a rotation is fetched).
   */
  private readonly oidc?: { issuer: string; keys: ReturnType<typeof createRemoteJWKSet> };

  constructor(
    env: NodeJS.ProcessEnv = process.env,
    private readonly reloadIntervalMs = JWKS_RELOAD_INTERVAL_MS,
  ) {
    this.keyFile = env.AUTH_JWKS_JSON ? undefined : env.AUTH_JWKS_FILE;
    const raw = env.AUTH_JWKS_JSON ?? (this.keyFile ? readFileSync(this.keyFile, 'utf8') : undefined);
    if (raw) this.keys = createLocalJWKSet(JSON.parse(raw) as JSONWebKeySet);
    if (env.AUTH_OIDC_ISSUER) {
      const issuer = env.AUTH_OIDC_ISSUER.replace(/\/$/, '');
      this.oidc = { issuer, keys: createRemoteJWKSet(new URL(env.AUTH_OIDC_JWKS_URI ?? `${issuer}/jwks`), { timeoutDuration: 3000, cooldownDuration: 30_000 }) };
    }
    if (!this.enabled && env.AUTH_REQUIRED === 'true') throw new Error('AUTH_REQUIRED=true but neither AUTH_JWKS_FILE, AUTH_JWKS_JSON nor AUTH_OIDC_ISSUER is set');
    this.lastReload = Date.now();
  }

  /**
   * A new signing key is published in the key file (a ConfigMap, which the kubelet updates in the
   * running pod) before tokens are signed with it: a token naming an unknown key id makes the file
   * be read again, at most every ten seconds, so a rotation needs no restart.
   */
  private reloadKeys(): boolean {
    if (!this.keyFile || Date.now() - this.lastReload < this.reloadIntervalMs) return false;
    this.lastReload = Date.now();
    try {
      this.keys = createLocalJWKSet(JSON.parse(readFileSync(this.keyFile, 'utf8')) as JSONWebKeySet);
      return true;
    } catch {
      return false; // a file half-written by an update: keep the keys we have, try again later
    }
  }

  private async verify(token: string) {
    // The issuer claim only picks the key set; the signature and every claim are then verified.
    if (this.oidc !== undefined && safeIssuer(token) === this.oidc.issuer) {
      const { payload } = await jwtVerify(token, this.oidc.keys, { issuer: this.oidc.issuer, audience: TOKEN_AUDIENCE, typ: 'at+jwt', algorithms: OIDC_ALGORITHMS, requiredClaims: ['exp', 'sub'] });
      // A person's subject is prefixed so it can never pass for a team or a service.
      return { payload, subject: `user:${payload.sub!}` };
    }
    // Only the platform's algorithm (EdDSA), whatever the token's header says (no "none", no HMAC
    // with the public key as secret), and only tokens that expire and name their caller.
    const options = { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: [TOKEN_ALGORITHM], requiredClaims: ['exp', 'sub'] };
    try {
      const { payload } = await jwtVerify(token, this.keys ?? rejectAll, options);
      return { payload, subject: payload.sub! };
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || !this.reloadKeys()) throw err;
      const { payload } = await jwtVerify(token, this.keys!, options);
      return { payload, subject: payload.sub! };
    }
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
      const { payload, subject } = await this.verify(token);
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
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
