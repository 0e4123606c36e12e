import seed from '../../dev/emulators/vantagepoint/seed.json';
import { JoseSessionSigner } from '../../shared/adapters/session/signer';
import type { SecretSource } from '../../shared/ports';
import type { SeedData } from '../../dev/emulators/vantagepoint/server';
import { signInSession, startStack, type Stack } from '../support/stack';
import { api, expectProblem, uniqueId } from '../support/http';

/**
 * Signing in (POST /api/session) and every way an admin call proves who it is: the session
 * token as Bearer, the session cookie with X-CSRF-Token on writes, the admin form's key with
 * the acting username. Each stack is its own Azurite, so throttling counts start at zero.
 */

const FORM_KEY = 'session-test-form-key-0123456789';

describe('sign-in, session token and cookie', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ CONNECT_FORM_KEY: FORM_KEY });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 201 {token, expiresAt, csrfToken, user} and sets an HttpOnly SameSite=Strict cookie (not Secure in development)', async () => {
    const res = await api(stack).post<{ token: string; expiresAt: string; csrfToken: string; user: unknown }>('session', { username: 'admin', password: 'admin' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresAt: expect.any(String),
      csrfToken: expect.any(String),
      user: { username: 'admin', employeeId: 'E0001', email: 'ada.admin@contoso.test' },
    });
    const minutes = (Date.parse(res.body.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(55);
    expect(minutes).toBeLessThanOrEqual(60);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^connect-session=[\w.-]+; /);
    expect(cookie.split('; ')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(cookie).not.toMatch(/Secure/);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('accepts the token as Bearer on admin routes, and GET /api/session tells who is signed in', async () => {
    const { token, csrfToken } = await signInSession(stack.baseUrl, 'admin');
    const admin = api(stack, token);
    expect((await admin.get('groups')).status).toBe(200);
    const session = await admin.get('session');
    expect(session.body).toEqual({ via: 'session', expiresAt: expect.any(String), csrfToken, user: { username: 'admin', employeeId: 'E0001', email: 'ada.admin@contoso.test' } });
  });

  it('accepts the cookie: reads freely, writes only with the session\'s X-CSRF-Token', async () => {
    const { cookie, csrfToken } = await signInSession(stack.baseUrl, 'admin');
    const browser = api(stack);
    expect((await browser.get('groups', { headers: { cookie } })).status).toBe(200);
    const body = { id: uniqueId('cookie'), name: `Cookie ${uniqueId('n')}`, mailboxAccess: 'office365' };
    expectProblem(await browser.post('groups', body, { headers: { cookie } }), 403, 'CSRF_TOKEN');
    expectProblem(await browser.post('groups', body, { headers: { cookie, 'x-csrf-token': 'forged' } }), 403, 'CSRF_TOKEN');
    expect((await browser.post('groups', body, { headers: { cookie, 'x-csrf-token': csrfToken } })).status).toBe(201);
  });

  it('signs out with DELETE /api/session: the token and the cookie stop working', async () => {
    const first = await signInSession(stack.baseUrl, 'admin');
    const other = await signInSession(stack.baseUrl, 'admin');
    const admin = api(stack, first.token);
    const out = await admin.del('session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^connect-session=; .*Max-Age=0/);
    expectProblem(await admin.get('groups'), 401, 'UNAUTHORIZED');
    expectProblem(await api(stack).get('groups', { headers: { cookie: first.cookie } }), 401, 'UNAUTHORIZED');
    // only that session: another one of the same person still works
    expect((await api(stack, other.token).get('groups')).status).toBe(200);
  });

  it('refuses an expired session, as Bearer and as cookie, with 401 (sign in again)', async () => {
    // a session the stack's own key issued SESSION_LIFETIME_MINUTES (60) and one second ago
    const keys = stack.env.SESSION_SIGNING_KEYS ?? '';
    const secrets: SecretSource = { kind: 'environment', get: async () => ({ value: keys, version: 't', updatedOn: null }), refresh: async () => ({ value: keys, version: 't', updatedOn: null }) };
    const expired = await new JoseSessionSigner(secrets, 'session-signing-keys', 60).issue('admin', new Date(Date.now() - 3601_000));
    expectProblem(await api(stack, expired.token).get('groups'), 401, 'UNAUTHORIZED');
    expectProblem(await api(stack).get('groups', { headers: { cookie: `connect-session=${expired.token}` } }), 401, 'UNAUTHORIZED');
  });

  it('refuses a cookie sign-out without the CSRF token (a forged page cannot sign you out)', async () => {
    const { cookie } = await signInSession(stack.baseUrl, 'admin');
    expectProblem(await api(stack).del('session', { headers: { cookie } }), 403, 'CSRF_TOKEN');
  });

  it('refuses a token signed with another key, and a Vantagepoint token (no who-am-I path configured)', async () => {
    const { token } = await signInSession(stack.baseUrl, 'admin');
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    expectProblem(await api(stack, forged).get('groups'), 401, 'UNAUTHORIZED');
    const vpToken = await fetch(`${stack.vantagepoint.url}/api/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', Username: 'admin', Password: 'admin', Integrated: 'N', database: '', Client_Id: 'connect-local', client_secret: 'local-dev-secret' }),
    }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
    expectProblem(await api(stack, vpToken).get('groups'), 401, 'UNAUTHORIZED');
  });

  it('names each bad field of the sign-in body and never echoes the password', async () => {
    const res = await api(stack).post('session', { username: '', password: 'secret-typed-by-someone' });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.text).not.toContain('secret-typed-by-someone');
  });

  describe('the Vantagepoint admin form (server to server)', () => {
    const form = (key: string, user?: string) => ({ headers: { 'x-connect-form-key': key, ...(user ? { 'x-connect-acting-user': user } : {}) } });

    it('accepts the form key with the acting username, checked like a person signing in', async () => {
      expect((await api(stack).get('groups', form(FORM_KEY, 'admin'))).status).toBe(200);
      const created = await api(stack).post<{ updatedBy: string }>('groups', { id: uniqueId('form'), name: `Form ${uniqueId('n')}`, mailboxAccess: 'office365' }, form(FORM_KEY, 'admin'));
      expect(created.status).toBe(201);
      expect(created.body.updatedBy).toBe('admin');
      expectProblem(await api(stack).get('groups', form(FORM_KEY, 'jdoe')), 403, 'ADMIN_ROLE');
      expectProblem(await api(stack).get('groups', form(FORM_KEY, 'noemail')), 403, 'ADMIN_EMPLOYEE');
    });

    it('refuses a wrong key or a missing acting user with 401', async () => {
      expectProblem(await api(stack).get('groups', form('not-the-form-key-at-all', 'admin')), 401, 'UNAUTHORIZED');
      expectProblem(await api(stack).get('groups', form(FORM_KEY)), 401, 'UNAUTHORIZED');
    });
  });
});

describe('throttling failed sign-ins', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ SIGN_IN_MAX_FAILURES: '3', SIGN_IN_MAX_FAILURES_PER_ADDRESS: '5', SIGN_IN_LOCKOUT_SECONDS: '600' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const attempt = (username: string, password: string, forwardedFor?: string) =>
    api(stack).post('session', { username, password }, forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {});

  // Every attempt here comes from loopback: 5 failures from it lock the address.
  it('answers 429 + Retry-After per username once its failures reach the limit, even with the right password', async () => {
    for (let i = 0; i < 3; i++) expectProblem(await attempt('admin', 'wrong'), 401, 'INVALID_CREDENTIALS'); // address: 3
    const locked = await attempt('admin', 'admin');
    expectProblem(locked, 429, 'TOO_MANY_ATTEMPTS'); // refused before Vantagepoint is asked: not counted
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // other people are not locked out by it
    expect((await attempt('jdoe', 'wrong')).status).toBe(401); // address: 4
  });

  it('answers 429 per client address once its failures reach the limit, whatever the username or X-Forwarded-For claims', async () => {
    expect((await attempt('u1', 'x')).status).toBe(401); // address: 5
    // the development host, like Azure's front end, appends the real peer: a forged entry before it changes nothing
    const locked = await attempt('u2', 'x', '203.0.113.7');
    expectProblem(locked, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('rights re-checked during a session', () => {
  let stack: Stack;
  // an installation whose user records carry a Role: admin is an administrator by role
  const users = (seed as SeedData).users.map((u) => (u.Username === 'admin' ? { ...u, Role: 'ADMIN' } : u));
  beforeAll(async () => {
    stack = await startStack({ CALLER_CACHE_SECONDS: '1', CONNECT_ADMIN_USERS: '' }, { vantagepoint: { seed: { ...(seed as SeedData), users } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('an administrator who loses the role loses access within CALLER_CACHE_SECONDS', async () => {
    const admin = api(stack, (await signInSession(stack.baseUrl, 'admin')).token);
    expect((await admin.get('groups')).status).toBe(200);
    stack.vantagepoint.updateUser('admin', { Role: 'STAFF' });
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      const res = await admin.get('groups');
      status = res.status;
      if (status !== 200) expectProblem(res, 403, 'ADMIN_ROLE');
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(403);
  });
});
