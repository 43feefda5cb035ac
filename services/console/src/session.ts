import { createHash } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';

/** A signed-in person, as the console keeps them between requests. */
export interface Session {
  sub: string;
  name: string;
  email: string;
  groups: string[];
  /** The scopes the provider granted on the access token: what the services will allow. */
  scopes: string[];
  /** The provider's access token, forwarded to the services; never sent to the browser's script. */
  accessToken: string;
  /** Seconds since the epoch; the session ends with the access token. */
  expiresAt: number;
}

/** A sign-in in progress: what the callback must find again (PKCE verifier, state, nonce). */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

export const SESSION_COOKIE = 'leadmesh_console';
export const LOGIN_COOKIE = 'leadmesh_console_login';

/**
 * Sessions live in an encrypted cookie (JWE, A256GCM): any replica can read it, no session store to
 * run, and the browser can neither read the token inside nor change it.
 */
export class SessionSealer {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`leadmesh-console-session:${secret}`).digest();
  }

  seal<T extends object>(value: T, expiresAt: number): Promise<string> {
    return new EncryptJWT({ v: value }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setExpirationTime(expiresAt).encrypt(this.key);
  }

  async open<T>(sealed: string | undefined): Promise<T | undefined> {
    if (!sealed) return undefined;
    try {
      const { payload } = await jwtDecrypt(sealed, this.key);
      return payload.v as T;
    } catch {
      return undefined; // expired, tampered with, or sealed with another secret: signed out
    }
  }
}

export function readCookie(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function cookie(name: string, value: string, options: { maxAge: number; secure: boolean; path?: string }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? '/'}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAge))}`,
    'HttpOnly',
    // Lax: sent on the provider's redirect back (a top-level navigation), never on another site's
    // POST or fetch.
    'SameSite=Lax',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
