import defaultSeed from '../../dev/emulators/vantagepoint/seed.json';
import type { SeedData } from '../../dev/emulators/vantagepoint/server';
import { api, createGroup, expectFieldError, expectProblem, withAdminStack, type Api } from '../support/http';
import { adminToken, startStack, type Stack } from '../support/stack';

/**
 * GET /api/employees: finding employees to add by id, name or email, over real HTTP against the
 * Vantagepoint emulator's paged employee list. The seed gains one employee with an accented name.
 */
interface Found {
  employeeId: string;
  name: string;
  email: string;
  employeeStatus: string;
  groupId: string | null;
  groupName: string | null;
  prerequisite: string | null;
  message: string;
}
interface SearchBody {
  items: Found[];
  total: number;
  listedAt: string;
}

const seed: SeedData = {
  ...defaultSeed,
  employees: [...defaultSeed.employees, { Employee: 'E0251', FirstName: 'José', LastName: 'Núñez', EMail: 'jose.nunez@contoso.test', Status: 'A' }],
  users: [...defaultSeed.users, { Username: 'jose.nunez.0251', DisplayUsername: 'jose.nunez.0251', Employee: 'E0251', Status: 'A' }],
};

let stack: Stack;
let admin: Api;

beforeAll(async () => {
  stack = await startStack({}, { vantagepoint: { seed } });
  admin = api(stack, await adminToken(stack));
});

afterAll(async () => {
  await stack?.stop();
});

const search = (text: string, top?: number) => admin.get<SearchBody>(`employees?search=${encodeURIComponent(text)}${top ? `&top=${top}` : ''}`);

it('finds employees by last name, ignoring case, best `top` first, and says how many matched', async () => {
  const res = await search('JENSEN', 5);
  expect(res.status).toBe(200);
  expect(res.body.items).toHaveLength(5);
  expect(res.body.total).toBeGreaterThanOrEqual(14);
  expect(res.body.items.every((e) => e.name.endsWith(' Jensen'))).toBe(true);
  expect(res.body.items[0]).toMatchObject({ email: expect.stringMatching(/jensen@contoso\.test$/), employeeStatus: 'A', groupId: null, prerequisite: null });
});

it('ignores accents and case: "jose nunez", "JOSÉ" and the email all find José Núñez', async () => {
  for (const text of ['jose nunez', 'JOSÉ', 'Nu\u0301n\u0303ez', 'jose.nunez@contoso']) {
    const res = await search(text);
    expect(res.status).toBe(200);
    expect(res.body.items.map((e) => e.employeeId)).toContain('E0251');
    expect(res.body.items.find((e) => e.employeeId === 'E0251')?.name).toBe('José Núñez');
  }
});

it('puts the employee whose id was typed first, in any case', async () => {
  const res = await search('e0010');
  expect(res.body.items[0]?.employeeId).toBe('E0010');
  const prefix = await search('E001', 50);
  expect(prefix.body.items.slice(0, 10).map((e) => e.employeeId).sort()).toEqual(['E0010', 'E0011', 'E0012', 'E0013', 'E0014', 'E0015', 'E0016', 'E0017', 'E0018', 'E0019']);
});

it('says which group an employee is in already, and which prerequisite they would fail', async () => {
  const group = await createGroup(admin, 'search');
  expect((await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0236'] })).status).toBe(200);
  expect((await search('E0236')).body.items[0]).toMatchObject({ employeeId: 'E0236', groupId: group.id, groupName: group.name });
  expect((await search('E0201')).body.items[0]).toMatchObject({ employeeId: 'E0201', groupId: null, prerequisite: 'NO_USER_RECORD' });
  expect((await search('E0216')).body.items[0]).toMatchObject({ employeeId: 'E0216', prerequisite: 'EMPLOYEE_TERMINATED', employeeStatus: 'T' });
  expect((await search('E0206')).body.items[0]).toMatchObject({ employeeId: 'E0206', prerequisite: 'INVALID_EMAIL' });
});

it('pages through Vantagepoint once for a burst of searches (typing), not once per keystroke', async () => {
  await search('a');
  const pages = stack.vantagepoint.requestCount('/api/employee');
  expect(pages).toBeGreaterThanOrEqual(3); // 251 employees at the emulator's cap of 100 a page
  const typed = await Promise.all(['k', 'ko', 'kow', 'kowa', 'kowal'].map((t) => search(t)));
  expect(typed.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  expect(typed[4]?.body.items.map((e) => e.employeeId)).toContain('E0250');
  expect(stack.vantagepoint.requestCount('/api/employee')).toBe(pages);
});

it('refuses a missing or blank search, a bad top and invisible characters with 400 naming the field', async () => {
  expectFieldError(await admin.get('employees'), 'query.search');
  expectFieldError(await search('   '), 'query.search');
  expectFieldError(await admin.get('employees?search=a&top=500'), 'query.top');
  expectFieldError(await admin.get('employees?search=a&top=0'), 'query.top');
  expectFieldError(await search('jen\u200bsen'), 'query.search');
  expectFieldError(await search('x'.repeat(101)), 'query.search');
});

it('is for administrators only', async () => {
  expectProblem(await api(stack).get('employees?search=a'), 401, 'UNAUTHORIZED');
  expectProblem(await api(stack, await adminToken(stack, 'jdoe')).get('employees?search=a'), 403, 'ADMIN_ROLE');
});

it('is described in the OpenAPI document', async () => {
  const doc = await admin.get<{ paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>> }>('openapi.json');
  expect(doc.body.paths['/api/employees']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['search', 'top']);
});

describe('with Vantagepoint unreachable', () => {
  let down: Api;
  let downStack: Stack;

  withAdminStack((s, client) => {
    downStack = s;
    down = client;
  });

  it('answers 503 with Retry-After when the list cannot be read', async () => {
    // The administrator's caller check was cached at sign-in; the employee list was never read.
    await downStack.vantagepoint.stop();
    const res = await down.get('employees?search=jensen');
    expectProblem(res, 503, 'DEPENDENCY_UNAVAILABLE');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
