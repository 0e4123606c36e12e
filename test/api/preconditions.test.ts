import { createGroup, expectProblem, withAdminStack, type Api, type GroupBody } from '../support/http';

/**
 * If-Match on the membership changes, the hold's confirmation and the personal switch: a page
 * sends what it read; a change made meanwhile by someone else answers 412 naming what to
 * re-read, and nothing is applied. Without If-Match (API clients) the changes go ahead.
 * Employees E0240–E0249 only.
 */
let admin: Api;

withAdminStack((_stack, client) => {
  admin = client;
});

/** The group renamed by "someone else": its ETag moves on. */
async function renamed(group: GroupBody): Promise<GroupBody> {
  const res = await admin.patch<GroupBody>(`groups/${group.id}`, { name: `${group.name} renamed` }, { headers: { 'if-match': group.etag } });
  expect(res.status).toBe(200);
  return res.body;
}

const members = async (groupId: string) => (await admin.get<{ items: Array<{ employeeId: string }> }>(`groups/${groupId}/members`)).body.items.map((m) => m.employeeId);

it("adds members only while the group is as the caller read it (the group's ETag)", async () => {
  const read = await createGroup(admin, 'ifmatch-add');
  const now = await renamed(read);

  const stale = await admin.post(`groups/${read.id}/members`, { employeeIds: ['E0240'] }, { headers: { 'if-match': read.etag } });
  const problem = expectProblem(stale, 412, 'PRECONDITION_FAILED');
  expect(problem.resource).toBe(`/api/groups/${read.id}`);
  expect(problem.detail).toMatch(/changed by someone else/);
  expect(await members(read.id)).toEqual([]);

  expect((await admin.post(`groups/${read.id}/members`, { employeeIds: ['E0240'] }, { headers: { 'if-match': now.etag } })).status).toBe(200);
  expect((await admin.post(`groups/${read.id}/members`, { employeeIds: ['E0241'] })).status).toBe(200);
  expect((await members(read.id)).sort()).toEqual(['E0240', 'E0241']);
  // A membership change leaves the group's ETag alone: the page's next change still matches.
  expect((await admin.get<GroupBody>(`groups/${read.id}`)).body.etag).toBe(now.etag);
});

it("moves a member into a group only under that group's current ETag", async () => {
  const from = await createGroup(admin, 'ifmatch-from');
  const to = await createGroup(admin, 'ifmatch-to');
  await admin.post(`groups/${from.id}/members`, { employeeIds: ['E0242'] });
  await renamed(to);
  expectProblem(await admin.post(`groups/${to.id}/members`, { employeeIds: ['E0242'], move: true }, { headers: { 'if-match': to.etag } }), 412, 'PRECONDITION_FAILED');
  expect(await members(from.id)).toEqual(['E0242']);
});

it("removes a member only under the group's current ETag", async () => {
  const read = await createGroup(admin, 'ifmatch-remove');
  await admin.post(`groups/${read.id}/members`, { employeeIds: ['E0243', 'E0244'] });
  const now = await renamed(read);
  const stale = await admin.del(`groups/${read.id}/members/E0243`, { headers: { 'if-match': read.etag } });
  expect(expectProblem(stale, 412, 'PRECONDITION_FAILED').resource).toBe(`/api/groups/${read.id}`);
  expect((await members(read.id)).sort()).toEqual(['E0243', 'E0244']);
  expect((await admin.del(`groups/${read.id}/members/E0243`, { headers: { 'if-match': now.etag } })).status).toBe(204);
  expect((await admin.del(`groups/${read.id}/members/E0244`)).status).toBe(204);
  expect(await members(read.id)).toEqual([]);
});

it("checks the group's ETag before confirming a hold's removals", async () => {
  const read = await createGroup(admin, 'ifmatch-hold');
  const now = await renamed(read);
  expectProblem(await admin.post(`groups/${read.id}/sync/confirm-removals`, undefined, { headers: { 'if-match': read.etag } }), 412, 'PRECONDITION_FAILED');
  // Current ETag: the precondition holds and the group is simply not held.
  expectProblem(await admin.post(`groups/${read.id}/sync/confirm-removals`, undefined, { headers: { 'if-match': now.etag } }), 409, 'GROUP_NOT_HELD');
});

it("turns the personal switch only from the position the caller read (the view's ETag)", async () => {
  const group = await createGroup(admin, 'ifmatch-user');
  await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0245'] });
  const view = await admin.get<{ etag: string; userEnabled: boolean }>('users/E0245/sync');
  expect(view.body.etag).toBe(view.headers.get('etag'));
  expect(view.body.userEnabled).toBe(true);

  // Someone else turns it off first (no If-Match: an API client)…
  const other = await admin.put<{ etag: string; userEnabled: boolean }>('users/E0245/sync', { enabled: false });
  expect(other.body.userEnabled).toBe(false);
  expect(other.body.etag).not.toBe(view.body.etag);
  expect(other.headers.get('etag')).toBe(other.body.etag);

  // …so a change decided on the view read before is refused, naming the user's switch.
  const stale = await admin.put('users/E0245/sync', { enabled: false }, { headers: { 'if-match': view.body.etag } });
  const problem = expectProblem(stale, 412, 'PRECONDITION_FAILED');
  expect(problem.resource).toBe('/api/users/E0245/sync');
  expect(problem.detail).toMatch(/off now/);

  const fresh = await admin.put<{ userEnabled: boolean }>('users/E0245/sync', { enabled: true }, { headers: { 'if-match': other.body.etag } });
  expect(fresh.status).toBe(200);
  expect(fresh.body.userEnabled).toBe(true);
  const history = await admin.get<{ items: Array<{ action: string }> }>(`groups/${group.id}/history`);
  expect(history.body.items.filter((e) => e.action === 'user.sync')).toHaveLength(2);
});
