// The console's OpenID Connect provider for local runs and tests: panva's oidc-provider (OpenID
// Certified) with a few static users whose groups map to the scopes the services check. Production
// uses the company's own provider; nothing in the console or the services knows this one.
//
//   node scripts/oidc-provider.ts          listens on OIDC_PORT (5556), issuer http://127.0.0.1:5556
//
// Dex was tried first (the brief's choice): its module is only on the proxy as a commit
// pseudo-version whose go.mod carries replace directives, so `go install` refuses it, and Dex's
// access tokens are audience-bound to the client with no API scopes, which the services would have
// had to map from groups themselves.
//
// The access token is an RFC 9068 JWT for the resource urn:leadmesh:api (audience "leadmesh"),
// signed EdDSA, carrying `scope` = what the user's groups allow of what the console asked for. The
// services verify it against this provider's JWKS (AUTH_OIDC_ISSUER), like any token of theirs.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT ?? 5556);
const issuer = process.env.OIDC_ISSUER ?? `http://127.0.0.1:${port}`;
const consoleUrl = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8088';
const clientSecret = process.env.CONSOLE_OIDC_CLIENT_SECRET ?? 'console-local-secret';
export const RESOURCE = 'urn:leadmesh:api';

/** Which of the services' scopes each group holds (what an IT admin would set in the real provider). */
export const GROUP_SCOPES: Record<string, string[]> = {
  viewers: ['leads:read'],
  'marketing-ops': ['leads:read', 'scoring:preview', 'routing:preview', 'nurture:preview', 'rules:admin', 'crm:replay', 'events:replay', 'nurture:unsubscribe'],
  'sales-ops': ['leads:read', 'routing:preview', 'owners:admin'],
  privacy: ['leads:read', 'privacy:erase'],
};

/** Static local users; the password is the same for all of them and printed by `npm start`. */
export const USERS = [
  { id: 'mia', email: 'mia@leadmesh.local', name: 'Mia Marketing-Ops', groups: ['marketing-ops'] },
  { id: 'sam', email: 'sam@leadmesh.local', name: 'Sam Sales-Ops', groups: ['sales-ops'] },
  { id: 'vic', email: 'vic@leadmesh.local', name: 'Vic Viewer', groups: ['viewers'] },
  { id: 'pia', email: 'pia@leadmesh.local', name: 'Pia Privacy', groups: ['privacy'] },
];
const PASSWORD = process.env.OIDC_USER_PASSWORD ?? 'leadmesh-local';

const allScopes = [...new Set(Object.values(GROUP_SCOPES).flat())].sort();
const scopesOf = (accountId: string) => [...new Set(USERS.find((u) => u.id === accountId)?.groups.flatMap((g) => GROUP_SCOPES[g] ?? []) ?? [])];

async function signingKeys() {
  // Fresh keys each start: the services fetch the JWKS, and a restart only signs everyone out.
  const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  return [
    { ...(await exportJWK(rsa.privateKey)), kid: `rs-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ed.privateKey)), kid: `ed-${randomBytes(4).toString('hex')}`, alg: 'EdDSA', use: 'sig' },
  ];
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'leadmesh-console',
      client_secret: clientSecret,
      redirect_uris: [`${consoleUrl}/auth/callback`],
      post_logout_redirect_uris: [`${consoleUrl}/`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: await signingKeys() },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // The console reads name and groups from the ID token (its access token is for the services).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== RESOURCE) throw new errors.InvalidTarget();
        return { scope: allScopes.join(' '), audience: 'leadmesh', accessTokenTTL: 60 * 60, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } };
      },
    },
  },
  ttl: { AccessToken: 60 * 60, IdToken: 60 * 60, Session: 8 * 60 * 60, Interaction: 10 * 60, Grant: 8 * 60 * 60 },
  findAccount: async (_ctx, id) => {
    const user = USERS.find((u) => u.id === id);
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, email: user.email, email_verified: true, name: user.name, groups: user.groups }) };
  },
  // The console is first-party: no consent screen; the grant is exactly what the user's groups allow.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const accountId = ctx.oidc.session!.accountId!;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId });
    grant.addOIDCScope('openid email profile groups');
    const allowed = scopesOf(accountId);
    grant.addResourceScope(RESOURCE, allowed.join(' '));
    // Refused, not pending: the token simply lacks them, instead of the provider asking for consent.
    const refused = allScopes.filter((scope) => !allowed.includes(scope));
    if (refused.length) grant.rejectResourceScope(RESOURCE, refused.join(' '));
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = true;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in - leadmesh</title>
<style>body{font:16px/1.5 system-ui,sans-serif;background:#f4f6f8;color:#1d2733;margin:0}main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #5b6878;border-radius:4px}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;background:#0b5cad;color:#fff;border:0;border-radius:4px}p.error{color:#a4000f}</style></head>
<body><main><h1>Sign in to leadmesh</h1><p>Local identity provider for the console.</p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Email</label><input id="login" name="login" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function passwordMatches(given: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(PASSWORD);
  return a.length === b.length && timingSafeEqual(a, b);
}

const callback = provider.callback();
const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url?.split('?')[0] ?? '');
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const send = (status: number, html: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    };
    if (req.method === 'GET' && !match[2]) return send(200, loginPage(details.uid));
    if (req.method === 'POST' && match[2]) {
      const form = await readForm(req);
      const user = USERS.find((u) => u.email === form.get('login')?.trim().toLowerCase());
      if (!user || !passwordMatches(form.get('password') ?? '')) return send(401, loginPage(details.uid, 'Unknown email or wrong password.'));
      return provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
    }
    res.writeHead(405).end();
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`sign-in failed: ${(err as Error).message}`);
  }
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'oidc provider listening', issuer })));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
