import { signInSession, startStack, type Stack } from '../support/stack';
import { api, expectProblem, uniqueId, type Api } from '../support/http';

/**
 * Issue 7's "Done means", as a new user would run it: the service against a Vantagepoint that
 * answers only in Deltek's documented shapes (the emulator: arrays for single records, user
 * Status A/I, employee Status A/I/T, no Role, no /user/current, pages capped at 100 so most user
 * records sit beyond page 1, `database` checked), signing in, creating a group, adding members,
 * enabling it, and checking every status and code (the same against a server that is not the
 * emulator, through `npm start`: done-means-documented.test.ts). Employees used by this file only:
 * E0054, E0160, E0244 (active), E0204, E0209, E0214, E0233, E0220, E9998.
 */

const ACTIVE = ['E0054', 'E0160', 'E0244']; // user records on pages 1, 2 and 3 of the user list
const NOT_CONFIGURED: Record<string, string> = {
  E0204: 'NO_USER_RECORD',
  E0209: 'INVALID_EMAIL',
  E0214: 'USER_INACTIVE',
  E0233: 'EMPLOYEE_INACTIVE',
  E0220: 'EMPLOYEE_TERMINATED',
  E9998: 'NO_EMPLOYEE_RECORD',
};

interface Member {
  employeeId: string;
  status: string;
  reason: string | null;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function members(admin: Api, groupId: string): Promise<Member[]> {
  const res = await admin.get<{ items: Member[] }>(`groups/${groupId}/members?top=50`);
  expect(res.status).toBe(200);
  return res.body.items;
}

it('signs in, creates a group, adds members, enables it: the right members become active, the rest not configured with their code', async () => {
  const session = await api(stack).post<{ token: string; user: { username: string } }>('session', { username: 'admin', password: 'admin' });
  expect(session.status).toBe(201);
  const admin = api(stack, session.body.token);

  const groupId = uniqueId('done');
  expect((await admin.post('groups', { id: groupId, name: `Done ${groupId}`, mailboxAccess: 'office365' })).status).toBe(201);
  const added = await admin.post<{ results: Array<{ employeeId: string; prerequisite: string | null }> }>(`groups/${groupId}/members`, {
    employeeIds: [...ACTIVE, ...Object.keys(NOT_CONFIGURED)],
  });
  expect(added.status).toBe(200);
  expect(Object.fromEntries(added.body.results.filter((r) => r.prerequisite).map((r) => [r.employeeId, r.prerequisite]))).toEqual(NOT_CONFIGURED);

  const enabled = await admin.put(`groups/${groupId}/sync`, { enabled: true });
  expect(enabled.status).toBe(200);

  // the reconciler (queue trigger in the host) creates the subscriptions: wait for it, no timing asserted
  const deadline = Date.now() + 30_000;
  let statuses: Record<string, string> = {};
  while (Date.now() < deadline) {
    statuses = Object.fromEntries((await members(admin, groupId)).map((m) => [m.employeeId, m.status]));
    if (ACTIVE.every((id) => statuses[id] === 'active')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const final = await members(admin, groupId);
  expect(Object.fromEntries(final.filter((m) => ACTIVE.includes(m.employeeId)).map((m) => [m.employeeId, m.status]))).toEqual(
    Object.fromEntries(ACTIVE.map((id) => [id, 'active'])),
  );
  expect(Object.fromEntries(final.filter((m) => !ACTIVE.includes(m.employeeId)).map((m) => [m.employeeId, [m.status, m.reason]]))).toEqual(
    Object.fromEntries(Object.entries(NOT_CONFIGURED).map(([id, code]) => [id, ['not_configured', code]])),
  );

  // only documented calls were made: no who-am-I endpoint, and the user list was read page by page
  expect(stack.vantagepoint.requestCount('/api/user/current')).toBe(0);
  expect(stack.vantagepoint.requestCount('/api/user')).toBeGreaterThanOrEqual(3);
});

it('answers 403 ADMIN_ROLE to a non-administrator, 403 ADMIN_EMPLOYEE to an administrator without an email, 401 to a wrong password', async () => {
  expectProblem(await api(stack).post('session', { username: 'jdoe', password: 'jdoe' }), 403, 'ADMIN_ROLE');
  expectProblem(await api(stack).post('session', { username: 'noemail', password: 'noemail' }), 403, 'ADMIN_EMPLOYEE');
  expectProblem(await api(stack).post('session', { username: 'admin', password: 'wrong' }), 401, 'INVALID_CREDENTIALS');
});

describe('while Vantagepoint is unreachable', () => {
  let down: Stack;
  let admin: Api;
  let groupId: string;
  beforeAll(async () => {
    down = await startStack();
    admin = api(down, (await signInSession(down.baseUrl, 'admin')).token);
    groupId = uniqueId('down');
    expect((await admin.post('groups', { id: groupId, name: `Down ${groupId}`, mailboxAccess: 'office365' })).status).toBe(201);
    await down.vantagepoint.stop(); // the caller check stays cached for CALLER_CACHE_SECONDS
  });
  afterAll(async () => {
    await down?.stop();
  });

  it('enabling answers 503 + Retry-After (a client retries that), not 409, and changes nothing', async () => {
    const res = await admin.put(`groups/${groupId}/sync`, { enabled: true });
    const problem = expectProblem(res, 503, 'DEPENDENCY_UNAVAILABLE');
    expect(problem.dependency).toBe('vantagepoint');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await admin.get<{ sync: string }>(`groups/${groupId}`)).body.sync).toBe('disabled');
  });

  it('preflight and connect status show PUBLIC_URL and API_CLIENT as unknown with the cause', async () => {
    type Org = { organisation: Array<{ code: string; ok: boolean; unknown?: boolean; message: string }> };
    const preflight = await admin.get<Org & { canEnable: boolean }>(`groups/${groupId}/sync/preflight`);
    expect(preflight.status).toBe(200);
    expect(preflight.body.canEnable).toBe(false);
    const status = await admin.get<Org>('connect/status');
    for (const body of [preflight.body, status.body]) {
      const byCode = Object.fromEntries(body.organisation.map((p) => [p.code, p]));
      for (const code of ['PUBLIC_URL', 'API_CLIENT']) {
        expect(byCode[code]).toEqual({ code, ok: false, unknown: true, message: expect.stringMatching(/^Could not check: .*unreachable/) });
      }
      expect(byCode.WINDOWS_AUTH).toMatchObject({ ok: true });
    }
  });

  it('signing in answers 503 + Retry-After, never 401', async () => {
    const res = await api(down).post('session', { username: 'admin', password: 'admin' });
    expectProblem(res, 503, 'DEPENDENCY_UNAVAILABLE');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
