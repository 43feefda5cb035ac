import { Inject, Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { CONSOLE_OPTIONS } from './tokens.js';
import type { ConsoleOptions } from './console.options.js';
import type { LoginTransaction, Session } from './session.js';

/**
 * The console as an OpenID Connect relying party (openid-client, OpenID Certified): authorization
 * code with PKCE, state and nonce, a confidential client. The provider is discovered on first use,
 * so the console starts (and reports live) before the provider answers.
 */
@Injectable()
export class OidcClient {
  private config?: Promise<oidc.Configuration>;

  constructor(@Inject(CONSOLE_OPTIONS) private readonly options: ConsoleOptions) {}

  private configuration(): Promise<oidc.Configuration> {
    this.config ??= oidc
      .discovery(new URL(this.options.oidcIssuer), this.options.oidcClientId, this.options.oidcClientSecret, undefined, {
        // Plain http only for a provider on this machine (the local one); anything else must be https.
        execute: isLoopback(this.options.oidcIssuer) ? [oidc.allowInsecureRequests] : [],
        timeout: 5,
      })
      .catch((err) => {
        this.config = undefined; // asked again on the next sign-in
        throw err;
      });
    return this.config;
  }

  get redirectUri(): string {
    return `${this.options.publicUrl}/auth/callback`;
  }

  async startLogin(returnTo: string): Promise<{ url: URL; transaction: LoginTransaction }> {
    const config = await this.configuration();
    const transaction: LoginTransaction = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier(), returnTo };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: ['openid', 'email', 'profile', 'groups', ...this.options.oidcScopes].join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(transaction.codeVerifier),
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
      resource: this.options.oidcResource,
    });
    return { url, transaction };
  }

  async finishLogin(callbackUrl: URL, transaction: LoginTransaction): Promise<Session> {
    const config = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier: transaction.codeVerifier, expectedState: transaction.state, expectedNonce: transaction.nonce, idTokenExpected: true },
      { resource: this.options.oidcResource },
    );
    const claims = tokens.claims()!;
    const expiresIn = tokens.expiresIn() ?? 3600;
    return {
      sub: claims.sub,
      name: typeof claims.name === 'string' ? claims.name : claims.sub,
      email: typeof claims.email === 'string' ? claims.email : '',
      groups: Array.isArray(claims.groups) ? claims.groups.map(String) : [],
      scopes: (tokens.scope ?? '').split(' ').filter((s) => s.includes(':')),
      accessToken: tokens.access_token,
      expiresAt: Math.floor(Date.now() / 1000) + expiresIn,
    };
  }

  async logoutUrl(): Promise<URL | undefined> {
    try {
      const config = await this.configuration();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(config, { client_id: this.options.oidcClientId, post_logout_redirect_uri: `${this.options.publicUrl}/` });
    } catch {
      return undefined;
    }
  }
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}
