import { randomBytes } from 'node:crypto';
import { allPages, withAdminStack, createGroup, expectFieldError, expectProblem, uniqueId, type Api, type GroupBody, type Page } from '../support/http';

/** Groups over real HTTP: create, read, the grid's filter and paging, patch, delete, history. */

interface HistoryItem {
  at: string;
  by: string;
  action: string;
  from: unknown;
  to: unknown;
  requestId: string;
}

let admin: Api;

withAdminStack((_stack, client) => {
  admin = client;
});

describe('create and read', () => {
  it('creates a disabled group: 201 with ETag and Location headers, then GET returns the same group', async () => {
    const id = uniqueId('create');
    const res = await admin.post<GroupBody>('groups', { id, name: `Sales ${id}`, description: 'East coast', mailboxAccess: 'office365' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/groups/${id}`);
    expect(res.headers.get('etag')).toBe(res.body.etag);
    expect(res.body).toMatchObject({
      id,
      name: `Sales ${id}`,
      description: 'East coast',
      mailboxAccess: 'office365',
      sync: 'disabled',
      memberCount: 0,
      updatedBy: 'admin',
      counts: { active: 0, pending: 0, with_issues: 0, suspended: 0, not_configured: 0, disabled: 0 },
    });

    const got = await admin.get<GroupBody>(`groups/${id}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(res.body.etag);
    expect(got.body).toEqual(res.body);
  });

  it('refuses a duplicate id with 409 DUPLICATE_ID', async () => {
    const group = await createGroup(admin, 'dupid');
    const res = await admin.post('groups', { id: group.id, name: `Other ${group.id}`, mailboxAccess: 'google' });
    expectProblem(res, 409, 'DUPLICATE_ID');
  });

  it('refuses a duplicate name ignoring case with 409 DUPLICATE_NAME', async () => {
    const group = await createGroup(admin, 'dupname');
    const res = await admin.post('groups', { id: uniqueId('dupname'), name: group.name.toUpperCase(), mailboxAccess: 'office365' });
    expectProblem(res, 409, 'DUPLICATE_NAME');
  });

  it('folds case the Unicode way: STRASSE and straße are one name (409 DUPLICATE_NAME)', async () => {
    const suffix = uniqueId('fold');
    const created = await admin.post('groups', { id: uniqueId('strasse'), name: `STRASSE ${suffix}`, mailboxAccess: 'office365' });
    expect(created.status).toBe(201);
    const res = await admin.post('groups', { id: uniqueId('strasse'), name: `straße ${suffix}`, mailboxAccess: 'office365' });
    expectProblem(res, 409, 'DUPLICATE_NAME');
  });

  it.each([
    ['U+2028', '\u2028', 'LINE SEPARATOR'],
    ['U+2029', '\u2029', 'PARAGRAPH SEPARATOR'],
    ['U+200B', '\u200b', 'ZERO WIDTH SPACE'],
    ['U+202E', '\u202e', 'RIGHT-TO-LEFT OVERRIDE'],
    ['U+0007', '\u0007', 'control character'],
  ])('refuses a name or description holding %s with a 400 naming the character', async (hex, ch, name) => {
    for (const body of [
      { id: uniqueId('invisible'), name: `Sales${ch}Team`, mailboxAccess: 'office365' },
      { id: uniqueId('invisible'), name: uniqueId('Visible'), description: `a${ch}b`, mailboxAccess: 'office365' },
    ]) {
      const res = await admin.post('groups', body);
      const problem = expectFieldError(res, body.description ? 'body.description' : 'body.name');
      expect(JSON.stringify(problem.errors)).toContain(`${hex} (${name})`);
    }
  });

  it('answers 404 GROUP_NOT_FOUND for an unknown group on every group route', async () => {
    const id = uniqueId('missing');
    const calls = [
      admin.get(`groups/${id}`),
      admin.patch(`groups/${id}`, { name: 'x' }),
      admin.del(`groups/${id}`),
      admin.get(`groups/${id}/members`),
      admin.post(`groups/${id}/members`, { employeeIds: ['E0001'] }),
      admin.put(`groups/${id}/sync`, { enabled: true }),
      admin.get(`groups/${id}/sync/preflight`),
      admin.get(`groups/${id}/history`),
    ];
    for (const res of await Promise.all(calls)) expectProblem(res, 404, 'GROUP_NOT_FOUND');
  });
});

describe('the Groups grid', () => {
  const tag = randomBytes(4).toString('hex');
  let byId: GroupBody;
  let byName: GroupBody;

  beforeAll(async () => {
    byId = await createGroup(admin, `grid-${tag}`);
    const res = await admin.post<GroupBody>('groups', { id: uniqueId('grid'), name: `Team ${tag.toUpperCase()} North`, mailboxAccess: 'google' });
    expect(res.status).toBe(201);
    byName = res.body;
    await createGroup(admin, 'grid-unrelated');
  });

  it('filters on id or name, ignoring case', async () => {
    for (const filter of [tag, tag.toUpperCase()]) {
      const { items } = await allPages<GroupBody>(admin, `groups?filter=${filter}`);
      expect(items.map((g) => g.id).sort()).toEqual([byId.id, byName.id].sort());
    }
  });

  it('filters on the sync switch', async () => {
    const group = await createGroup(admin, `grid-sync-${tag}`);
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
    const enabled = await allPages<GroupBody>(admin, `groups?filter=${tag}&sync=enabled`);
    expect(enabled.items.map((g) => g.id)).toEqual([group.id]);
    const disabled = await allPages<GroupBody>(admin, `groups?filter=${tag}&sync=disabled`);
    expect(disabled.items.map((g) => g.id).sort()).toEqual([byId.id, byName.id].sort());
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: false })).status).toBe(200);
  });

  it('pages with continuationToken: full pages, every group once, no token on the last page', async () => {
    const pageTag = randomBytes(4).toString('hex');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createGroup(admin, `page-${pageTag}`)).id);
    const { items, sizes } = await allPages<GroupBody>(admin, `groups?filter=${pageTag}&top=2`);
    expect(sizes).toEqual([2, 2, 1]);
    expect(items.map((g) => g.id).sort()).toEqual(created.sort());
  });

  it('lists a single page of the whole grid with items and a continuationToken field', async () => {
    const res = await admin.get<Page<GroupBody>>('groups?top=1');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body).toHaveProperty('continuationToken');
  });
});

describe('patch and delete', () => {
  it('renames and describes a group, returning the new ETag', async () => {
    const group = await createGroup(admin, 'patch');
    const res = await admin.patch<GroupBody>(`groups/${group.id}`, { name: `Renamed ${group.id}`, description: 'new words' }, { headers: { 'if-match': group.etag } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: group.id, name: `Renamed ${group.id}`, description: 'new words' });
    expect(res.body.etag).not.toBe(group.etag);
    expect(res.headers.get('etag')).toBe(res.body.etag);
  });

  it('refuses a rename onto another group\'s name (any case) with 409 DUPLICATE_NAME', async () => {
    const [a, b] = [await createGroup(admin, 'patchdup'), await createGroup(admin, 'patchdup')];
    expectProblem(await admin.patch(`groups/${b.id}`, { name: a.name.toLowerCase() }), 409, 'DUPLICATE_NAME');
    expect((await admin.get<GroupBody>(`groups/${b.id}`)).body.name).toBe(b.name);
  });

  it('answers 412 to a stale If-Match on patch and delete, changing nothing', async () => {
    const group = await createGroup(admin, 'stale');
    const fresh = await admin.patch<GroupBody>(`groups/${group.id}`, { description: 'v2' });
    expect(fresh.status).toBe(200);
    expectProblem(await admin.patch(`groups/${group.id}`, { description: 'v3' }, { headers: { 'if-match': group.etag } }), 412, 'PRECONDITION_FAILED');
    expectProblem(await admin.del(`groups/${group.id}`, { headers: { 'if-match': group.etag } }), 412, 'PRECONDITION_FAILED');
    const now = await admin.get<GroupBody>(`groups/${group.id}`);
    expect(now.body).toMatchObject({ description: 'v2', etag: fresh.body.etag });
  });

  it('deletes a disabled group (204) and then answers 404', async () => {
    const group = await createGroup(admin, 'delete');
    const res = await admin.del(`groups/${group.id}`, { headers: { 'if-match': group.etag } });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectProblem(await admin.get(`groups/${group.id}`), 404, 'GROUP_NOT_FOUND');
    // The audit trail outlives the group.
    const history = await admin.get<{ items: Array<{ action: string; by: string }> }>(`groups/${group.id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.items.map((e) => e.action)).toEqual(['group.delete', 'group.create']);
  });

  it('refuses to delete an enabled group with 409 GROUP_ENABLED and keeps it', async () => {
    const group = await createGroup(admin, 'delenabled');
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
    expectProblem(await admin.del(`groups/${group.id}`), 409, 'GROUP_ENABLED');
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body.sync).toBe('enabled');
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: false })).status).toBe(200);
    expect((await admin.del(`groups/${group.id}`)).status).toBe(204);
  });
});

describe('history', () => {
  it('records who, when, from → to and the client\'s x-request-id, newest first', async () => {
    const group = await createGroup(admin, 'history');
    const before = new Date().toISOString();
    const requestId = `req-${randomBytes(6).toString('hex')}`;
    const renamed = await admin.patch(`groups/${group.id}`, { name: `History ${group.id}` }, { headers: { 'x-request-id': requestId } });
    expect(renamed.headers.get('x-request-id')).toBe(requestId);
    const toggleId = `req-${randomBytes(6).toString('hex')}`;
    expect((await admin.put(`groups/${group.id}/sync`, { enabled: true }, { headers: { 'x-request-id': toggleId } })).status).toBe(200);
    await admin.put(`groups/${group.id}/sync`, { enabled: false });

    const res = await admin.get<Page<HistoryItem>>(`groups/${group.id}/history`);
    expect(res.status).toBe(200);
    const [disable, enable, rename, create] = res.body.items;
    expect(res.body.items).toHaveLength(4);
    expect(create).toMatchObject({ action: 'group.create', by: 'admin', from: null });
    expect(rename).toMatchObject({ action: 'group.update', by: 'admin', from: { name: group.name }, to: { name: `History ${group.id}` }, requestId });
    expect(enable).toMatchObject({ action: 'group.sync', by: 'admin', from: 'disabled', to: 'enabled', requestId: toggleId });
    expect(disable).toMatchObject({ action: 'group.sync', from: 'enabled', to: 'disabled' });
    expect((rename?.at ?? '') >= before).toBe(true);
    expect(Date.parse(rename?.at ?? '')).not.toBeNaN();
  });

  it('pages the audit trail with top and continuationToken', async () => {
    const group = await createGroup(admin, 'histpage');
    for (const description of ['a', 'b', 'c']) await admin.patch(`groups/${group.id}`, { description });
    const first = await admin.get<Page<HistoryItem>>(`groups/${group.id}/history?top=3`);
    expect(first.body.items).toHaveLength(3);
    expect(first.body.continuationToken).toEqual(expect.any(String));
    const second = await admin.get<Page<HistoryItem>>(`groups/${group.id}/history?top=3&continuationToken=${encodeURIComponent(first.body.continuationToken ?? '')}`);
    expect(second.body.items.map((e) => e.action)).toEqual(['group.create']);
    expect(second.body.continuationToken ?? null).toBeNull();
  });
});
