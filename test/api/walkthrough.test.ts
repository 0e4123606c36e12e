import { startStack, type Stack } from '../support/stack';
import { api, uniqueId, type Api } from '../support/http';

/**
 * The walkthrough of issue 2 ("Done means"), step by step as an administrator would run it with
 * curl: sign in (POST /api/session), create a group, add members (some failing prerequisites),
 * preflight, enable, which members are not configured and why, disable, history.
 * Employees used by this file only: E0050–E0053, E0203, E0208, E0213, E0219.
 */

const NOT_CONFIGURED: Record<string, string> = {
  E0203: 'NO_USER_RECORD',
  E0208: 'INVALID_EMAIL',
  E0213: 'USER_INACTIVE',
  E0219: 'EMPLOYEE_TERMINATED',
};

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Step 1, as the README's curl does it: sign in with Vantagepoint credentials, keep the session token. */
async function signIn(): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin' }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { token: string; expiresAt: string; user: { username: string } };
  expect(body).toMatchObject({ token: expect.any(String), expiresAt: expect.any(String), user: { username: 'admin' } });
  return body.token;
}

it('follows the walkthrough from sign-in to history', async () => {
  const admin: Api = api(stack, await signIn());
  const groupId = uniqueId('walkthrough');

  // create a group
  const created = await admin.post<{ id: string; sync: string }>('groups', { id: groupId, name: `Walkthrough ${groupId}`, description: 'Sales team', mailboxAccess: 'office365' });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ id: groupId, sync: 'disabled' });

  // add members, some failing member prerequisites
  const ids = ['E0050', 'E0051', 'E0052', 'E0053', ...Object.keys(NOT_CONFIGURED)];
  const added = await admin.post<{ added: number; results: Array<{ employeeId: string; outcome: string; prerequisite: string | null }> }>(`groups/${groupId}/members`, { employeeIds: ids });
  expect(added.status).toBe(200);
  expect(added.body.added).toBe(ids.length);
  expect(Object.fromEntries(added.body.results.filter((r) => r.prerequisite).map((r) => [r.employeeId, r.prerequisite]))).toEqual(NOT_CONFIGURED);

  // preflight: organisation prerequisites pass; the four would not be configured
  const preflight = await admin.get<{ canEnable: boolean; organisation: Array<{ ok: boolean }>; members: { notConfigured: Record<string, number>; affected: Array<{ employeeId: string }> } }>(
    `groups/${groupId}/sync/preflight`,
  );
  expect(preflight.status).toBe(200);
  expect(preflight.body.canEnable).toBe(true);
  expect(preflight.body.members.notConfigured).toEqual({ NO_USER_RECORD: 1, INVALID_EMAIL: 1, USER_INACTIVE: 1, EMPLOYEE_TERMINATED: 1 });
  expect(preflight.body.members.affected.map((m) => m.employeeId).sort()).toEqual(Object.keys(NOT_CONFIGURED).sort());

  // enable
  const enabled = await admin.put<{ changed: boolean; group: { sync: string }; reconciliation: { requested: boolean } }>(`groups/${groupId}/sync`, { enabled: true });
  expect(enabled.status).toBe(200);
  expect(enabled.body).toMatchObject({ changed: true, group: { sync: 'enabled' }, reconciliation: { requested: true } });

  // which members are not configured, and why
  const notConfigured = await admin.get<{ items: Array<{ employeeId: string; status: string; reason: string; message: string }> }>(`groups/${groupId}/members?status=not_configured`);
  expect(notConfigured.status).toBe(200);
  expect(Object.fromEntries(notConfigured.body.items.map((m) => [m.employeeId, m.reason]))).toEqual(NOT_CONFIGURED);
  expect(notConfigured.body.items.every((m) => m.message.length > 0)).toBe(true);
  const why = await admin.get<{ status: string; reason: string; steps: Array<{ name: string; ok: boolean; detail: string }> }>('users/E0208/sync');
  expect(why.body).toMatchObject({ status: 'not_configured', reason: 'INVALID_EMAIL' });
  expect(why.body.steps.at(-1)).toMatchObject({ name: 'member prerequisites', ok: false, detail: expect.stringContaining('INVALID_EMAIL') });

  // disable
  const disabled = await admin.put<{ changed: boolean; group: { sync: string } }>(`groups/${groupId}/sync`, { enabled: false });
  expect(disabled.body).toMatchObject({ changed: true, group: { sync: 'disabled' } });

  // history, newest first
  const history = await admin.get<{ items: Array<{ action: string; by: string; from: unknown; to: unknown }> }>(`groups/${groupId}/history`);
  expect(history.body.items.map((e) => [e.action, e.by])).toEqual([
    ['group.sync', 'admin'],
    ['group.sync', 'admin'],
    ['members.add', 'admin'],
    ['group.create', 'admin'],
  ]);
  expect(history.body.items.slice(0, 2).map((e) => [e.from, e.to])).toEqual([
    ['enabled', 'disabled'],
    ['disabled', 'enabled'],
  ]);
});
