import { SESSION_COOKIE, SessionSealer, cookie, readCookie } from './session.js';

describe('the session cookie', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const session = { sub: 'mia', scopes: ['leads:read'], accessToken: 'token' };

  it('opens what it sealed, with the same secret only', async () => {
    const sealed = await new SessionSealer('secret-a').seal(session, now() + 60);
    expect(await new SessionSealer('secret-a').open(sealed)).toEqual(session);
    expect(await new SessionSealer('secret-b').open(sealed)).toBeUndefined();
    // The browser sees ciphertext, not the token.
    expect(sealed).not.toContain('token');
  });

  it('refuses an expired or altered cookie', async () => {
    const sealer = new SessionSealer('secret-a');
    expect(await sealer.open(await sealer.seal(session, now() - 10))).toBeUndefined();
    const sealed = await sealer.seal(session, now() + 60);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(await sealer.open(tampered)).toBeUndefined();
    expect(await sealer.open(undefined)).toBeUndefined();
  });

  it('is httpOnly and SameSite=Lax, Secure only under https, and read back from the header', () => {
    const set = cookie(SESSION_COOKIE, 'a b', { maxAge: 60, secure: false });
    expect(set).toBe('leadmesh_console=a%20b; Path=/; Max-Age=60; HttpOnly; SameSite=Lax');
    expect(cookie(SESSION_COOKIE, 'x', { maxAge: 60, secure: true })).toMatch(/; Secure$/);
    expect(readCookie(`other=1; ${SESSION_COOKIE}=a%20b`, SESSION_COOKIE)).toBe('a b');
    expect(readCookie('other=1', SESSION_COOKIE)).toBeUndefined();
  });
});
