import { clearedSessionCookie, sessionCookie } from '../../shared/http/cookies';
import { cookieValue } from '../../shared/http/credentials';
import type { HttpRequest } from '@azure/functions';

/** The session cookie's attributes (issue 7): HttpOnly and SameSite=Strict always, Secure outside development. */
describe('the session cookie', () => {
  const expiresAt = new Date(Date.now() + 3600_000).toISOString();

  it('outside development is Secure, with the __Host- prefix, HttpOnly, SameSite=Strict, Path=/ and no Domain', () => {
    const attributes = sessionCookie({ CONNECT_ENVIRONMENT: 'production' }, 'tok.en.value', expiresAt).split('; ');
    expect(attributes[0]).toBe('__Host-connect-session=tok.en.value');
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/']));
    expect(attributes.some((a) => /^Domain=/i.test(a))).toBe(false);
    const maxAge = Number(attributes.find((a) => a.startsWith('Max-Age='))?.slice('Max-Age='.length));
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
  });

  it('in development (plain-http localhost) is not Secure and has no __Host- prefix, HttpOnly and SameSite=Strict still', () => {
    const attributes = sessionCookie({ CONNECT_ENVIRONMENT: 'development' }, 'tok', expiresAt).split('; ');
    expect(attributes[0]).toBe('connect-session=tok');
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(attributes).not.toContain('Secure');
  });

  it('is cleared at sign-out with the same name and attributes', () => {
    expect(clearedSessionCookie({ CONNECT_ENVIRONMENT: 'production' })).toBe('__Host-connect-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });

  it('is read back by name from the Cookie header among others', () => {
    const req = { headers: new Headers({ cookie: 'a=1; __Host-connect-session=tok.en; b=2' }) } as unknown as HttpRequest;
    expect(cookieValue(req, '__Host-connect-session')).toBe('tok.en');
    expect(cookieValue(req, 'connect-session')).toBeNull();
  });
});
