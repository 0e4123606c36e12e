import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { startFakeKeyVault } from '../../dev/emulators/keyvault';
import { localPasswordGrant, startVantagepointEmulator, type SeedData, type VantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { freePort } from '../../dev/support/ports';
import { environmentSecretMap, EnvironmentSecretSource, KeyVaultSecretSource, secretFingerprint } from '../../shared/adapters/secrets';
import { createVantagepointDirectory, isValidEmail, type VantagepointDirectoryOptions } from '../../shared/adapters/vantagepoint';
import { parseConfig, type Config } from '../../shared/config';
import { ForbiddenError, ServiceUnavailableError, UnauthorizedError } from '../../shared/errors';
import type { SecretSource } from '../../shared/ports';

const START = Date.parse('2025-01-01T00:00:00Z');
/** A named database, so every grant the client makes must carry it (the emulator checks). */
const DATABASE = 'ConnectTest';

function configFor(baseUrl: string, overrides: Record<string, string> = {}): Config {
  return parseConfig({
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    VANTAGEPOINT_BASE_URL: baseUrl,
    VANTAGEPOINT_CLIENT_ID: 'connect-local',
    VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
    VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
    VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
    VANTAGEPOINT_DATABASE: DATABASE,
    CONNECT_ADMIN_USERS: 'admin,noemail',
    SESSION_SIGNING_KEYS: 'integration-test-session-signing-key-0123456789',
    GRAPH_NOTIFICATION_URL: 'http://127.0.0.1:7071/api/notifications/graph',
    ...overrides,
  });
}

/** The test's clock, shared by the emulator (token expiry) and the client (renewal, caches). */
let clock = START;
const now = () => clock;
let emulator: VantagepointEmulator;
let env: Record<string, string | undefined>;

beforeEach(async () => {
  clock = START;
  emulator = await startVantagepointEmulator({ now, tokenLifetimeSeconds: 600, database: DATABASE });
  env = { VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret', VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service' };
});
afterEach(() => emulator.stop());

function directory(options: VantagepointDirectoryOptions = {}, secrets?: SecretSource) {
  const config = configFor(emulator.url);
  return createVantagepointDirectory(config, secrets ?? new EnvironmentSecretSource(environmentSecretMap(config), env), { now, ...options });
}

/** A Vantagepoint user's own access token (the emulator's password grant). */
async function signIn(username: string, password = username): Promise<string> {
  const form = localPasswordGrant(username, password);
  form.set('database', DATABASE);
  const res = await fetch(`${emulator.url}/api/token`, { method: 'POST', body: form });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('the Vantagepoint emulator', () => {
  async function token(form: Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
    const response = await fetch(`${emulator.url}/api/token`, { method: 'POST', headers: { 'content-type': contentType }, body: new URLSearchParams(form).toString() });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const client = { Client_Id: 'connect-local', client_secret: 'local-dev-secret', database: DATABASE };

  it('issues bearer tokens for the password grant with Vantagepoint fields', async () => {
    const { status, body } = await token({ grant_type: 'password', Username: 'admin', Password: 'admin', Integrated: 'N', ...client });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 600 });
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.refresh_token).toBe('string');
  });

  it('answers token errors OAuth style', async () => {
    expect((await token({ grant_type: 'password', Username: 'admin', Password: 'wrong', ...client })).body).toMatchObject({ error: 'invalid_grant' });
    expect((await token({ grant_type: 'password', Username: 'admin', Password: 'admin', Client_Id: 'connect-local', client_secret: 'x' })).body).toMatchObject({
      error: 'invalid_client',
    });
    // the database is checked on every grant: another one, or none, is refused
    expect((await token({ grant_type: 'password', Username: 'admin', Password: 'admin', ...client, database: 'Other' })).body).toMatchObject({
      error: 'invalid_request',
    });
    expect((await token({ grant_type: 'password', Username: 'admin', Password: 'admin', Client_Id: 'connect-local', client_secret: 'local-dev-secret' })).body).toMatchObject({
      error: 'invalid_request',
    });
    expect((await token({ grant_type: 'client_credentials', ...client })).body).toMatchObject({ error: 'unsupported_grant_type' });
    expect((await token({ Username: 'admin' })).body).toMatchObject({ error: 'invalid_request' });
    const wrongType = await token({ grant_type: 'password' }, 'text/plain');
    expect(wrongType).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('requires a valid bearer token, expires it, and answers unknown keys with 404 {message, detail}', async () => {
    const noToken = await fetch(`${emulator.url}/api/employee/E0001`);
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ message: expect.any(String), detail: expect.any(String) });

    const bearer = { authorization: `Bearer ${await signIn('admin')}` };
    const employee = await fetch(`${emulator.url}/api/employee/E0001`, { headers: bearer });
    // "Responses": a single record comes back as an array of one
    expect(await employee.json()).toEqual([{ Employee: 'E0001', FirstName: 'Ada', LastName: 'Admin', EMail: 'ada.admin@contoso.test', Status: 'A' }]);
    const filtered = await fetch(`${emulator.url}/api/employee/E0001?fieldFilter=Employee,EMail`, { headers: bearer });
    expect(await filtered.json()).toEqual([{ Employee: 'E0001', EMail: 'ada.admin@contoso.test' }]);
    const unknown = await fetch(`${emulator.url}/api/employee/E9999`, { headers: bearer });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ message: expect.any(String), detail: expect.any(String) });
    const employees = await fetch(`${emulator.url}/api/employee?page=3&pageSize=100`, { headers: bearer });
    expect(((await employees.json()) as unknown[]).length).toBe(50);
    // the page size is capped at 100 whatever was asked, with either paging style
    const capped = await fetch(`${emulator.url}/api/user?page=1&pageSize=1000`, { headers: bearer });
    expect(((await capped.json()) as unknown[]).length).toBe(100);
    const byOffset = (await (await fetch(`${emulator.url}/api/user?offset=240&limit=1000`, { headers: bearer })).json()) as Array<{ Username: string }>;
    expect(byOffset.map((u) => u.Username)).toHaveLength(5);
    // no who-am-I endpoint: "current" is just a user name nobody has
    expect((await fetch(`${emulator.url}/api/user/current`, { headers: bearer })).status).toBe(404);
    const admin = (await (await fetch(`${emulator.url}/api/user/admin`, { headers: bearer })).json()) as unknown[];
    expect(admin).toEqual([{ Username: 'admin', DisplayUsername: 'admin', Employee: 'E0001', Status: 'A', EmployeeStatus: 'A', EmployeeName: 'Ada Admin' }]);

    clock += 600_000;
    expect((await fetch(`${emulator.url}/api/user/admin`, { headers: bearer })).status).toBe(401);
  });
});

describe('service tokens', () => {
  it('acquires a token with the password grant and reports it in the health', async () => {
    const vp = directory();
    expect(vp.health()).toMatchObject({ ok: false, lastTokenAt: null, secretSource: 'environment' });
    expect(await vp.checkCredentials()).toMatchObject({ ok: true });
    expect(emulator.grantCount('password')).toBe(1);
    expect(vp.health()).toEqual({
      ok: true,
      secretVersion: secretFingerprint('local-dev-secret'),
      lastTokenAt: new Date(START).toISOString(),
      lastError: null,
      secretSource: 'environment',
    });
  });

  it('shares one token request among concurrent callers and reuses the token until renewal is due', async () => {
    const vp = directory();
    await Promise.all(['E0005', 'E0006', 'E0007', 'E0008', 'E0009'].map((id) => vp.employeeFacts([id])));
    expect(emulator.grantCount('password')).toBe(1);
    clock += 500_000; // 100 s of 600 left: more than the 60 s margin
    await vp.employeeFacts(['E0005']);
    expect(emulator.requestCount('/api/token')).toBe(1);
  });

  it('uses the refresh-token grant once the token nears or passes its expiry', async () => {
    const vp = directory();
    await vp.employeeFacts(['E0005']);
    clock += 545_000; // 55 s left: inside the renewal margin
    await vp.employeeFacts(['E0005']);
    expect(emulator.grantCount('refresh_token')).toBe(1);

    clock += 700_000; // past the expiry: the emulator rejects the old access token
    expect((await vp.employeeFacts(['E0006'])).get('E0006')?.exists).toBe(true);
    expect(emulator.grantCount('refresh_token')).toBe(2);
    expect(emulator.grantCount('password')).toBe(1);
  });

  it('follows a secret rotation end to end without a restart', async () => {
    const vp = directory();
    await vp.employeeFacts(['E0005']);
    emulator.rotateSecret('rotated-secret'); // Vantagepoint: "Generate new secret" revokes every token
    env.VANTAGEPOINT_CLIENT_SECRET = 'rotated-secret'; // the operator stores the new secret
    const employeeReads = emulator.requestCount('/api/employee/E0005');

    expect((await vp.employeeFacts(['E0005'])).get('E0005')?.exists).toBe(true);
    // the new secret version alone dropped the old tokens: no request was sent with a revoked one
    expect(emulator.requestCount('/api/employee/E0005') - employeeReads).toBe(1);
    expect(vp.health()).toMatchObject({ ok: true, secretVersion: secretFingerprint('rotated-secret'), lastError: null });
    expect(emulator.grantCount('password')).toBe(2);
  });

  it('reports a rotation the secret store has not caught up with, then recovers on refreshCredentials()', async () => {
    const vp = directory();
    await vp.employeeFacts(['E0005']);
    emulator.rotateSecret('rotated-secret');

    await expect(vp.employeeFacts(['E0005'])).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(vp.health()).toMatchObject({ ok: false, lastError: expect.stringContaining('invalid_client') });
    expect(await vp.checkCredentials()).toEqual({ ok: false, rejected: true, message: expect.stringContaining('The client id or client secret is not valid.') });

    env.VANTAGEPOINT_CLIENT_SECRET = 'rotated-secret';
    expect(await vp.refreshCredentials()).toMatchObject({ ok: true, secretVersion: secretFingerprint('rotated-secret'), lastError: null });
  });

  it('retries a token call refused with invalid_client once, with a freshly read secret', async () => {
    const vault = await startFakeKeyVault();
    try {
      vault.setSecret('vantagepoint-client-secret', 'local-dev-secret');
      vault.setSecret('vantagepoint-service-password', 'connect-service');
      const credential: TokenCredential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };
      const client = new SecretClient(vault.url, credential, { allowInsecureConnection: true, disableChallengeResourceVerification: true });
      // a long refresh interval: only the invalid_client retry can make the source look again
      const secrets = new KeyVaultSecretSource(client, { refreshSeconds: 86_400, now });
      const vp = directory({}, secrets);
      await vp.employeeFacts(['E0005']);

      emulator.rotateSecret('rotated-secret');
      const newVersion = vault.setSecret('vantagepoint-client-secret', 'rotated-secret');
      const tokenCallsBefore = emulator.requestCount('/api/token');
      expect((await vp.employeeFacts(['E0005'])).get('E0005')?.exists).toBe(true);
      expect(emulator.requestCount('/api/token') - tokenCallsBefore).toBe(2); // refused once, accepted once
      expect(vp.health()).toMatchObject({ ok: true, secretVersion: newVersion });

      emulator.rotateSecret('nobody-knows-this-one');
      const failedBefore = emulator.requestCount('/api/token');
      expect(await vp.checkCredentials()).toMatchObject({ ok: false });
      expect(emulator.requestCount('/api/token') - failedBefore).toBe(2); // exactly one retry, no loop
    } finally {
      await vault.stop();
    }
  });

  it('reports an unreachable Vantagepoint as ServiceUnavailableError(vantagepoint)', async () => {
    const config = configFor(`http://127.0.0.1:${await freePort()}`);
    const vp = createVantagepointDirectory(config, new EnvironmentSecretSource(environmentSecretMap(config), env), { now });
    const error = await vp.employeeFacts(['E0001']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ dependency: 'vantagepoint' });
    // no answer is "could not check", not "refused"
    expect(await vp.checkCredentials()).toEqual({ ok: false, unknown: true, message: expect.stringMatching(/unreachable/) });
  });
});

describe('caller check (documented calls only)', () => {
  it('proves a password with the person\'s own password grant and keeps nothing', async () => {
    const vp = directory();
    await vp.authenticate('admin', 'admin');
    await expect(vp.authenticate('admin', 'wrong')).rejects.toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    await expect(vp.authenticate('nobody', 'x')).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('resolves an administrator named in CONNECT_ADMIN_USERS with a valid employee email', async () => {
    expect(await directory().checkCaller('admin')).toEqual({ username: 'admin', employeeId: 'E0001', email: 'ada.admin@contoso.test', role: '' });
    expect(emulator.requestCount('/api/user/current')).toBe(0);
  });

  it('refuses a user who is not an administrator with ADMIN_ROLE', async () => {
    const error = await directory().checkCaller('jdoe').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ status: 403, code: 'ADMIN_ROLE', message: expect.stringContaining('CONNECT_ADMIN_USERS') });
  });

  it('refuses an administrator whose employee has no email with ADMIN_EMPLOYEE', async () => {
    await expect(directory().checkCaller('noemail')).rejects.toMatchObject({ status: 403, code: 'ADMIN_EMPLOYEE' });
  });

  it('refuses a username with no user record with ADMIN_ROLE, whether Vantagepoint answers 404 or 200 []', async () => {
    await expect(directory().checkCaller('nobody')).rejects.toMatchObject({ code: 'ADMIN_ROLE' });
    await emulator.stop();
    emulator = await startVantagepointEmulator({ now, tokenLifetimeSeconds: 600, database: DATABASE, missingRecord: 'empty' });
    await expect(directory().checkCaller('nobody')).rejects.toMatchObject({ code: 'ADMIN_ROLE' });
    expect((await directory().employeeFacts(['E9999'])).get('E9999')).toMatchObject({ exists: false });
  });

  it('uses the user record\'s Role where Vantagepoint returns one (CONNECT_ADMIN_ROLES), not the username list', async () => {
    await emulator.stop();
    const seed = (await import('../../dev/emulators/vantagepoint/seed.json')).default as SeedData;
    const users = seed.users.map((u) => (u.Username === 'jdoe' ? { ...u, Role: 'ADMIN' } : u.Username === 'admin' ? { ...u, Role: 'STAFF' } : u));
    emulator = await startVantagepointEmulator({ now, tokenLifetimeSeconds: 600, database: DATABASE, seed: { ...seed, users } });
    const vp = directory();
    expect(await vp.checkCaller('jdoe')).toMatchObject({ username: 'jdoe', role: 'ADMIN' });
    const error = await vp.checkCaller('admin').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ADMIN_ROLE', message: expect.stringContaining('"STAFF"') });
  });

  it('caches answers (success and 403) for CALLER_CACHE_SECONDS, then asks again (a lost role loses access)', async () => {
    const vp = directory();
    await vp.checkCaller('admin');
    await expect(vp.checkCaller('jdoe')).rejects.toMatchObject({ code: 'ADMIN_ROLE' });
    const requests = emulator.requestCount();

    await vp.checkCaller('ADMIN');
    await expect(vp.checkCaller('jdoe')).rejects.toMatchObject({ code: 'ADMIN_ROLE' });
    expect(emulator.requestCount()).toBe(requests);

    clock += 60_000;
    await vp.checkCaller('admin');
    expect(emulator.requestCount('/api/user/admin')).toBe(2);
  });
});

describe('employee facts', () => {
  it('gives the facts behind every member prerequisite and unknown ids', async () => {
    const facts = await directory().employeeFacts(['E0005', 'E0201', 'E0206', 'E0211', 'E0216', 'E0221', 'E0226', 'E9999']);
    const fact = (id: string) => facts.get(id);

    expect(fact('E0005')).toMatchObject({ exists: true, employeeStatus: 'A', user: { active: true } });
    expect(isValidEmail(fact('E0005')?.email ?? '')).toBe(true);
    expect(fact('E0201')).toMatchObject({ exists: true, user: null }); // NO_USER_RECORD
    expect(isValidEmail(fact('E0206')?.email ?? '')).toBe(false); // INVALID_EMAIL
    expect(fact('E0211')).toMatchObject({ exists: true, user: { active: false } }); // USER_INACTIVE
    expect(fact('E0216')).toMatchObject({ exists: true, employeeStatus: 'T', user: { active: true } }); // EMPLOYEE_TERMINATED
    expect(fact('E0221')?.email).toMatch(/^missing-.+@contoso\.test$/);
    expect(fact('E0226')?.email).toMatch(/^forbidden-.+@contoso\.test$/);
    expect(fact('E9999')).toMatchObject({ exists: false, user: null }); // NO_EMPLOYEE_RECORD
  });

  it('covers each fixed failure range completely', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `E${String(201 + i).padStart(4, '0')}`);
    const facts = await directory().employeeFacts(ids);
    const range = (from: number, to: number) => ids.slice(from - 201, to - 200).map((id) => facts.get(id));
    expect(range(201, 205).every((f) => f?.user === null)).toBe(true);
    expect(range(206, 210).every((f) => !isValidEmail(f?.email ?? ''))).toBe(true);
    expect(range(211, 215).every((f) => f?.user?.active === false)).toBe(true);
    expect(range(216, 220).every((f) => f?.employeeStatus === 'T')).toBe(true);
    expect(range(221, 225).every((f) => f?.email.startsWith('missing-'))).toBe(true);
    expect(range(226, 230).every((f) => f?.email.startsWith('forbidden-') && isValidEmail(f.email))).toBe(true);
  });

  it('pages through the user list and caches it', async () => {
    const vp = directory({ userPageSize: 100 }); // 245 users: pages of 100, 100, 45
    const facts = await vp.employeeFacts(['E0250']);
    expect(facts.get('E0250')?.user).toEqual({ username: 'alice.kowalski.0250', active: true });
    expect(emulator.requestCount('/api/user')).toBe(3);

    await vp.employeeFacts(['E0249']);
    expect(emulator.requestCount('/api/user')).toBe(3);
  });
});

describe('isValidEmail', () => {
  it.each([
    ['ada.admin@contoso.test', true],
    ['', false],
    ['not-an-email', false],
    ['two@@contoso.test', false],
    ['no-dot@contoso', false],
    ['has space@contoso.test', false],
    ['@contoso.test', false],
    ['a@contoso.', false],
  ])('%s → %s', (email, valid) => {
    expect(isValidEmail(email)).toBe(valid);
  });
});
