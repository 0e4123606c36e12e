/**
 * Issue 7's "Done means", word for word: `npm start` against a Vantagepoint that answers only in
 * Deltek's documented shapes and is not this project's emulator (test/support/deltekDocumented.ts:
 * missing records as `200 []`, capitalised error bodies, `page` ignored and pages capped at 40,
 * upper-case usernames, no Role), configured only with the settings the README names. An
 * administrator signs in, creates a group, adds members and enables it: the members with an active
 * employee, an active user and a valid email become active, user records on later pages included;
 * every other member is not configured with its code; a non-administrator gets 403 ADMIN_ROLE, an
 * administrator without an email 403 ADMIN_EMPLOYEE, a wrong password 401.
 */
import { startGraphEmulator, type GraphEmulator } from '../../dev/emulators/graph/server';
import { startDocumentedVantagepoint, type DocumentedEmployee, type DocumentedUser, type DocumentedVantagepoint } from '../support/deltekDocumented';
import { api, expectProblem, type Api } from '../support/http';
import { startOnFreePorts } from '../support/npmStart';
import type { Stack } from '../support/stack';

const key = (n: number) => String(n).padStart(5, '0');
const person = (n: number, email: string | null = `person.${key(n)}@example.com`, status: DocumentedEmployee['status'] = 'A'): DocumentedEmployee => ({
  key: key(n),
  firstName: 'Person',
  lastName: key(n),
  email,
  status,
});

// administrators (CONNECT_ADMIN_USERS=admin,noemail), a non-administrator and the service account
const people: DocumentedUser[] = [
  { username: 'admin', password: 'Admin-Pass-1', employee: key(1), status: 'A' },
  { username: 'jdoe', password: 'Jdoe-Pass-1', employee: key(2), status: 'A' },
  { username: 'noemail', password: 'Noemail-Pass-1', employee: key(3), status: 'A' },
  { username: 'svc', password: 'Svc-Pass-1', employee: key(4), status: 'A' },
];
// 100 active users for employees 00010–00109, then the users of the failing cases: at 40 a page,
// 00010 is on page 1, 00060 on page 2, 00105 on page 3
const staff: DocumentedUser[] = Array.from({ length: 100 }, (_, i) => ({ username: `user${key(10 + i)}`, employee: key(10 + i), status: 'A' as const }));
const failing: DocumentedUser[] = [
  { username: 'bademail', employee: key(201), status: 'A' },
  { username: 'inactiveuser', employee: key(202), status: 'I' },
  { username: 'inactiveemp', employee: key(203), status: 'A' },
  { username: 'terminated', employee: key(204), status: 'A' },
];
const employeeRecords: DocumentedEmployee[] = [
  person(1),
  person(2),
  person(3, null),
  person(4),
  ...Array.from({ length: 100 }, (_, i) => person(10 + i)),
  person(200), // no user record
  person(201, 'not-an-email'),
  person(202),
  person(203, undefined, 'I'),
  person(204, undefined, 'T'),
];

const ACTIVE = [key(10), key(60), key(105)];
const NOT_CONFIGURED: Record<string, string> = {
  [key(200)]: 'NO_USER_RECORD',
  [key(201)]: 'INVALID_EMAIL',
  [key(202)]: 'USER_INACTIVE',
  [key(203)]: 'EMPLOYEE_INACTIVE',
  [key(204)]: 'EMPLOYEE_TERMINATED',
  '09999': 'NO_EMPLOYEE_RECORD',
};

let vantagepoint: DocumentedVantagepoint;
let graph: GraphEmulator;
let started: Awaited<ReturnType<typeof startOnFreePorts>>;
let service: Pick<Stack, 'baseUrl'>;

beforeAll(async () => {
  vantagepoint = await startDocumentedVantagepoint({
    database: 'ACME_PROD',
    clientId: 'acme-connect',
    clientSecret: 'acme-client-secret',
    users: [...people, ...staff, ...failing],
    employees: employeeRecords,
  });
  graph = await startGraphEmulator({ port: 0, allowHttpNotificationUrls: true });
  // exactly the settings the README names for a run against your own Vantagepoint (and Graph's)
  started = await startOnFreePorts({
    VANTAGEPOINT_BASE_URL: vantagepoint.url,
    VANTAGEPOINT_DATABASE: 'ACME_PROD',
    VANTAGEPOINT_CLIENT_ID: 'acme-connect',
    VANTAGEPOINT_CLIENT_SECRET: 'acme-client-secret',
    VANTAGEPOINT_SERVICE_USERNAME: 'svc',
    VANTAGEPOINT_SERVICE_PASSWORD: 'Svc-Pass-1',
    CONNECT_ADMIN_USERS: 'admin,noemail',
    GRAPH_BASE_URL: `${graph.url}/v1.0`,
    GRAPH_AUTHORITY_HOST: graph.url,
  });
  service = { baseUrl: `http://127.0.0.1:${started.ports.FUNCTIONS_PORT}/api` };
});

afterAll(async () => {
  started?.child.kill('SIGINT');
  await started?.exited;
  await graph?.stop();
  await vantagepoint?.stop();
});

const client = (token?: string): Api => api(service as Stack, token);

it('npm start used that server, not an emulator', () => {
  expect(started.output()).toContain(`${vantagepoint.url}/api   (yours: VANTAGEPOINT_BASE_URL)`);
});

it('answers 403 ADMIN_ROLE to a non-administrator, 403 ADMIN_EMPLOYEE to an administrator without an email, 401 to a wrong password', async () => {
  expectProblem(await client().post('session', { username: 'jdoe', password: 'Jdoe-Pass-1' }), 403, 'ADMIN_ROLE');
  expectProblem(await client().post('session', { username: 'noemail', password: 'Noemail-Pass-1' }), 403, 'ADMIN_EMPLOYEE');
  expectProblem(await client().post('session', { username: 'admin', password: 'wrong' }), 401, 'INVALID_CREDENTIALS');
});

it('signs in, creates a group, adds members, enables it: the right members become active, the rest not configured with their code', async () => {
  const session = await client().post<{ token: string; user: { username: string; employeeId: string } }>('session', { username: 'admin', password: 'Admin-Pass-1' });
  expect(session.status).toBe(201);
  expect(session.body.user).toMatchObject({ username: 'ADMIN', employeeId: key(1) });
  const admin = client(session.body.token);

  expect((await admin.post('groups', { id: 'sales', name: 'Sales', mailboxAccess: 'office365' })).status).toBe(201);
  const added = await admin.post<{ results: Array<{ employeeId: string; prerequisite: string | null }> }>('groups/sales/members', {
    employeeIds: [...ACTIVE, ...Object.keys(NOT_CONFIGURED)],
  });
  expect(added.status).toBe(200);
  expect(Object.fromEntries(added.body.results.map((r) => [r.employeeId, r.prerequisite]))).toEqual({
    ...Object.fromEntries(ACTIVE.map((id) => [id, null])),
    ...NOT_CONFIGURED,
  });

  expect((await admin.put('groups/sales/sync', { enabled: true })).status).toBe(200);

  // the reconciler (queue trigger in the host) creates the subscriptions: wait for it, no timing asserted
  type Member = { employeeId: string; status: string; reason: string | null };
  const members = async () => (await admin.get<{ items: Member[] }>('groups/sales/members?top=50')).body.items;
  const deadline = Date.now() + 30_000;
  let current = await members();
  while (Date.now() < deadline && !ACTIVE.every((id) => current.find((m) => m.employeeId === id)?.status === 'active')) {
    await new Promise((r) => setTimeout(r, 250));
    current = await members();
  }
  expect(Object.fromEntries(current.map((m) => [m.employeeId, [m.status, m.reason]]))).toEqual({
    ...Object.fromEntries(ACTIVE.map((id) => [id, ['active', null]])),
    ...Object.fromEntries(Object.entries(NOT_CONFIGURED).map(([id, code]) => [id, ['not_configured', code]])),
  });
});

it('asked that server only documented things: no who-am-I call, every grant with its database, the user list followed page by page', () => {
  expect(vantagepoint.requests.filter((r) => /\/api\/user\/current$/i.test(r.path))).toEqual([]);
  const grants = vantagepoint.requests.filter((r) => r.path === '/api/token');
  expect(grants.length).toBeGreaterThan(0);
  expect(grants.every((r) => r.form?.get('database') === 'ACME_PROD')).toBe(true);
  // `page` is ignored here, so the client moved on to offset/limit at the 40 served
  const offsets = vantagepoint.requests.filter((r) => r.path === '/api/user' && r.query.has('offset')).map((r) => r.query.get('offset'));
  expect(offsets).toEqual(expect.arrayContaining(['40', '80']));
});
