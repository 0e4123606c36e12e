import { allPages, withAdminStack, createGroup, employee, expectFieldError, expectProblem, uniqueId, type Api, type GroupBody } from '../support/http';

/**
 * Members over real HTTP. Azurite is shared by the whole run and a user belongs to one group,
 * so this file only uses employees E0010–E0029 and one of each seed failure range
 * (E0201, E0206, E0211, E0216, E0217); other files use other employees.
 */

interface AddResult {
  results: Array<{ employeeId: string; outcome: string; otherGroupId?: string; fromGroupId?: string; prerequisite: string | null; message: string }>;
  added: number;
  conflicts: number;
  reconciliationRequested: boolean;
}
interface MemberItem {
  employeeId: string;
  name: string;
  email: string;
  status: string;
  reason: string | null;
  message: string;
}
interface UserSync {
  employeeId: string;
  groupId: string | null;
  userEnabled: boolean;
  status: string;
  reason: string | null;
  steps: Array<{ name: string; ok: boolean; detail: string }>;
}

/** One seed employee per member prerequisite the add evaluates, with the reason the seed documents. */
const FAILING: Record<string, string> = {
  E0201: 'NO_USER_RECORD',
  E0206: 'INVALID_EMAIL',
  E0211: 'USER_INACTIVE',
  E0216: 'EMPLOYEE_TERMINATED',
};

let admin: Api;

withAdminStack((_stack, client) => {
  admin = client;
});

/** Every member of a group page by page, with a query such as `top=3` or `status=disabled`. */
function allMembers(groupId: string, query: string): Promise<{ items: MemberItem[]; sizes: number[] }> {
  return allPages<MemberItem>(admin, `groups/${groupId}/members?${query}`);
}

describe('bulk add, list and remove', () => {
  let group: GroupBody;
  const valid = [employee(10), employee(11), employee(12)];
  // ids are matched ignoring case and answered in upper case (Vantagepoint's keys match case-insensitively)
  const unknown = `X${uniqueId('nobody').replace(/-/g, '')}`.slice(0, 32).toUpperCase();

  beforeAll(async () => {
    group = await createGroup(admin, 'members');
  });

  it('adds every id with one result each and its member prerequisite outcome', async () => {
    const ids = [...valid, ...Object.keys(FAILING), unknown, valid[0] as string];
    const res = await admin.post<AddResult>(`groups/${group.id}/members`, { employeeIds: ids });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 8, conflicts: 0, reconciliationRequested: true });
    const byId = new Map(res.body.results.map((r) => [r.employeeId, r]));
    expect([...byId.keys()].sort()).toEqual([...new Set(ids)].sort());
    for (const id of valid) expect(byId.get(id)).toMatchObject({ outcome: 'added', prerequisite: null });
    for (const [id, reason] of Object.entries(FAILING)) {
      expect(byId.get(id)).toMatchObject({ outcome: 'added', prerequisite: reason, message: expect.stringMatching(/\S/) });
    }
    expect(byId.get(unknown)).toMatchObject({ outcome: 'added', prerequisite: 'NO_EMPLOYEE_RECORD' });

    const again = await admin.post<AddResult>(`groups/${group.id}/members`, { employeeIds: [valid[0]] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ added: 0, results: [{ employeeId: valid[0], outcome: 'already_member' }] });
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body).toMatchObject({ memberCount: 8, counts: { disabled: 8 } });
  });

  it('lists members with name, email, status and reason, paged with continuationToken', async () => {
    const { items, sizes } = await allMembers(group.id, 'top=3');
    expect(sizes.every((n) => n <= 3)).toBe(true);
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    expect(items).toHaveLength(8);
    expect(new Set(items.map((m) => m.employeeId)).size).toBe(8);
    expect(items.find((m) => m.employeeId === 'E0010')).toEqual({
      employeeId: 'E0010',
      name: expect.stringMatching(/\S/),
      email: expect.stringMatching(/@contoso\.test$/),
      status: 'disabled',
      reason: 'GROUP_DISABLED',
      message: expect.any(String),
      syncIssues: 0,
    });
  });

  it('filters members by status: not configured members and their reasons once the group is enabled', async () => {
    expect((await allMembers(group.id, 'status=disabled')).items).toHaveLength(8);
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
    const { items } = await allMembers(group.id, 'status=not_configured&top=2');
    expect(Object.fromEntries(items.map((m) => [m.employeeId, m.reason]))).toEqual({ ...FAILING, [unknown]: 'NO_EMPLOYEE_RECORD' });
    expect((await allMembers(group.id, 'status=disabled')).items).toEqual([]);
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: false })).status).toBe(200);
  });

  it('rejects an unknown status filter with 400 naming query.status', async () => {
    expectFieldError(await admin.get(`groups/${group.id}/members?status=sleeping`), 'query.status');
  });

  it('removes a member (204), then answers 404 MEMBER_NOT_FOUND', async () => {
    const id = valid[2] as string;
    const res = await admin.del(`groups/${group.id}/members/${id}`);
    expect(res.status).toBe(204);
    expectProblem(await admin.del(`groups/${group.id}/members/${id}`), 404, 'MEMBER_NOT_FOUND');
    expect((await allMembers(group.id, 'top=50')).items.map((m) => m.employeeId)).not.toContain(id);
  });

  it('answers 404 MEMBER_NOT_FOUND for someone who was never a member', async () => {
    expectProblem(await admin.del(`groups/${group.id}/members/E0029`), 404, 'MEMBER_NOT_FOUND');
  });
});

describe('one group per user', () => {
  it('refuses a user who is in another group (409), adds the others, and moves them with move: true', async () => {
    const [a, b] = [await createGroup(admin, 'owner'), await createGroup(admin, 'other')];
    expect((await admin.post(`groups/${a.id}/members`, { employeeIds: ['E0020', 'E0021'] })).status).toBe(200);

    const refused = await admin.post<AddResult>(`groups/${b.id}/members`, { employeeIds: ['E0020'] });
    expectProblem(refused, 409, 'MEMBER_IN_OTHER_GROUP');
    expect(refused.body.results).toEqual([expect.objectContaining({ employeeId: 'E0020', outcome: 'conflict', otherGroupId: a.id })]);

    const mixed = await admin.post<AddResult>(`groups/${b.id}/members`, { employeeIds: ['E0020', 'E0022'] });
    expect(mixed.status).toBe(200);
    expect(mixed.body).toMatchObject({ added: 1, conflicts: 1 });
    expect(mixed.body.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ employeeId: 'E0020', outcome: 'conflict', otherGroupId: a.id }),
        expect.objectContaining({ employeeId: 'E0022', outcome: 'added' }),
      ]),
    );

    const moved = await admin.post<AddResult>(`groups/${b.id}/members`, { employeeIds: ['E0020'], move: true });
    expect(moved.status).toBe(200);
    expect(moved.body.results).toEqual([expect.objectContaining({ employeeId: 'E0020', outcome: 'moved', fromGroupId: a.id })]);
    expect((await allMembers(a.id, 'top=50')).items.map((m) => m.employeeId)).toEqual(['E0021']);
    expect((await allMembers(b.id, 'top=50')).items.map((m) => m.employeeId).sort()).toEqual(['E0020', 'E0022']);
    expect((await admin.get<UserSync>('users/E0020/sync')).body.groupId).toBe(b.id);
  });
});

describe('the per-user view and switch', () => {
  it('explains a user step by step and lets a disabled group override the personal switch', async () => {
    const group = await createGroup(admin, 'usersync');
    expect((await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0025', 'E0217'] })).status).toBe(200);
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);

    const why = await admin.get<UserSync>('users/E0217/sync');
    expect(why.status).toBe(200);
    expect(why.body).toMatchObject({ employeeId: 'E0217', groupId: group.id, status: 'not_configured', reason: 'EMPLOYEE_TERMINATED' });
    expect(why.body.steps.map((s) => [s.name, s.ok])).toEqual([
      ['membership', true],
      ['group switch', true],
      ['user switch', true],
      ['member prerequisites', false],
    ]);

    const off = await admin.put<UserSync>('users/E0025/sync', { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ userEnabled: false, status: 'disabled', reason: 'USER_DISABLED' });

    expect((await admin.put(`groups/${group.id}/sync`, { enabled: false })).status).toBe(200);
    const on = await admin.put<UserSync>('users/E0025/sync', { enabled: true });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ userEnabled: true, status: 'disabled', reason: 'GROUP_DISABLED' });
    expect(on.body.steps.find((s) => s.name === 'group switch')).toMatchObject({ ok: false });
  });

  it('answers 404 USER_NOT_FOUND for an employee who is in no group', async () => {
    expectProblem(await admin.get('users/E9999/sync'), 404, 'USER_NOT_FOUND');
    expectProblem(await admin.put('users/E9999/sync', { enabled: true }), 404, 'USER_NOT_FOUND');
    expectProblem(await admin.post('users/E9999/sync/force'), 404, 'USER_NOT_FOUND');
  });
});
