import { createEmployeeList, EMPLOYEE_LIST_TTL_MS } from '../../shared/adapters/vantagepoint/employeeList';
import type { ApiResponse } from '../../shared/adapters/vantagepoint/api';
import { ServiceUnavailableError } from '../../shared/errors';

/**
 * The employee list behind search, against a scripted Vantagepoint: every page read (the server
 * caps pages below what was asked), a malformed record skipped, users joined, one read shared by
 * concurrent searches and kept for a minute, and an outage passed on as 503.
 */
const employees = Array.from({ length: 7 }, (_, i) => ({ Employee: `e${i}`, FirstName: `F${i}`, LastName: `L${i}`, EMail: `f${i}@contoso.test`, Status: 'A' }));

function server(options: { cap?: number; extra?: unknown[] } = {}) {
  const cap = options.cap ?? 3;
  const records: unknown[] = [...employees, ...(options.extra ?? [])];
  const paths: string[] = [];
  const serviceGet = (path: string): Promise<ApiResponse> => {
    paths.push(path);
    const url = new URL(path, 'http://vp');
    const size = Math.min(Number(url.searchParams.get('pageSize') ?? url.searchParams.get('limit')), cap);
    const page = Number(url.searchParams.get('page') ?? 1);
    return Promise.resolve({ status: 200, body: records.slice((page - 1) * size, page * size) });
  };
  return { serviceGet, paths };
}

const users = () => Promise.resolve(new Map([['E1', { username: 'f1', active: true }], ['E2', { username: 'f2', active: false }]]));

it('reads every page, asks only for the fields it uses, joins the users, and skips a record without a key', async () => {
  const vp = server({ extra: [{ FirstName: 'No', LastName: 'Key' }] });
  const list = createEmployeeList({ serviceGet: vp.serviceGet, usersByEmployee: users, now: () => 0 });
  const { entries } = await list.employees();
  expect(entries.map((e) => e.employeeId)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6']);
  expect(entries[1]).toEqual({ employeeId: 'E1', firstName: 'F1', lastName: 'L1', email: 'f1@contoso.test', employeeStatus: 'A', user: { username: 'f1', active: true } });
  expect(entries[0]?.user).toBeNull();
  expect(vp.paths.every((p) => p.startsWith('/employee?fieldFilter=Employee,FirstName,LastName,EMail,Status&'))).toBe(true);
  expect(vp.paths.length).toBeGreaterThanOrEqual(3);
});

it('shares one read between concurrent searches and keeps it for a minute', async () => {
  let now = 0;
  const vp = server();
  const list = createEmployeeList({ serviceGet: vp.serviceGet, usersByEmployee: users, now: () => now });
  const [a, b] = await Promise.all([list.employees(), list.employees()]);
  expect(a).toBe(b);
  const reads = vp.paths.length;
  now = EMPLOYEE_LIST_TTL_MS - 1;
  expect(await list.employees()).toBe(a);
  expect(vp.paths.length).toBe(reads);
  now = EMPLOYEE_LIST_TTL_MS;
  const fresh = await list.employees();
  expect(fresh).not.toBe(a);
  expect(vp.paths.length).toBe(2 * reads);
});

it('passes an outage on as 503 and reads again on the next search', async () => {
  let down = true;
  const vp = server();
  const list = createEmployeeList({
    serviceGet: (path) => (down ? Promise.resolve({ status: 503, body: { message: 'Down' } }) : vp.serviceGet(path)),
    usersByEmployee: users,
    now: () => 0,
  });
  await expect(list.employees()).rejects.toBeInstanceOf(ServiceUnavailableError);
  down = false;
  expect((await list.employees()).entries).toHaveLength(7);
});

it('refuses a list that never ends instead of holding it all', async () => {
  let n = 0;
  const endless = (): Promise<ApiResponse> => Promise.resolve({ status: 200, body: [0, 1, 2].map(() => ({ Employee: `x${n++}` })) });
  const list = createEmployeeList({ serviceGet: endless, usersByEmployee: users, now: () => 0, maxPages: 5 });
  await expect(list.employees()).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/employee list/) });
});
