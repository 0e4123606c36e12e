import { withAdminStack, createGroup, employees, expectProblem, type Api, type ApiResponse, type GroupBody } from '../support/http';

/**
 * The toggle PUT /api/groups/{groupId}/sync and preflight over real HTTP. Employees used by
 * this file only: E0030–E0049, E0202, E0207, E0212, E0218.
 */

interface Summary {
  memberCount: number;
  notConfigured: Record<string, number>;
  affected: Array<{ employeeId: string; name: string; reason: string; message: string }>;
  affectedContinuationToken: string | null;
}
interface ToggleBody {
  group: GroupBody;
  changed: boolean;
  members: Summary;
  reconciliation: { requested: boolean };
}
interface PreflightBody {
  groupId: string;
  canEnable: boolean;
  organisation: Array<{ code: string; ok: boolean; message: string }>;
  members: Summary;
}
interface HistoryItem {
  action: string;
  from: unknown;
  to: unknown;
  requestId: string;
}

const FAILING: Record<string, string> = {
  E0202: 'NO_USER_RECORD',
  E0207: 'INVALID_EMAIL',
  E0212: 'USER_INACTIVE',
  E0218: 'EMPLOYEE_TERMINATED',
};

let admin: Api;

withAdminStack((_stack, client) => {
  admin = client;
});

const toggle = (groupId: string, enabled: boolean, ifMatch?: string): Promise<ApiResponse<ToggleBody>> =>
  admin.put<ToggleBody>(`groups/${groupId}/sync`, { enabled }, ifMatch ? { headers: { 'if-match': ifMatch } } : {});

async function history(groupId: string): Promise<HistoryItem[]> {
  const res = await admin.get<{ items: HistoryItem[] }>(`groups/${groupId}/history?top=200`);
  expect(res.status).toBe(200);
  return res.body.items;
}

const syncRows = async (groupId: string) => (await history(groupId)).filter((e) => e.action === 'group.sync');

describe('enable and disable', () => {
  let group: GroupBody;

  beforeAll(async () => {
    group = await createGroup(admin, 'toggle');
    const added = await admin.post(`groups/${group.id}/members`, { employeeIds: [...employees(30, 35), ...Object.keys(FAILING)] });
    expect(added.status).toBe(200);
  });

  it('preflight lists every organisation prerequisite and the members that would not be configured, changing nothing', async () => {
    const before = await history(group.id);
    const res = await admin.get<PreflightBody>(`groups/${group.id}/sync/preflight`);
    expect(res.status).toBe(200);
    expect(res.body.canEnable).toBe(true);
    expect(res.body.organisation.map((p) => [p.code, p.ok])).toEqual([
      ['PUBLIC_URL', true],
      ['WINDOWS_AUTH', true],
      ['API_CLIENT', true],
      ['IP_ALLOWLIST', true],
    ]);
    expect(res.body.organisation.every((p) => p.message.length > 0)).toBe(true);
    expect(res.body.members.memberCount).toBe(10);
    expect(Object.fromEntries(res.body.members.affected.map((m) => [m.employeeId, m.reason]))).toEqual(FAILING);
    expect(await history(group.id)).toEqual(before);
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body).toMatchObject({ sync: 'disabled', etag: group.etag });
  });

  it('enables: 200 with the group, the member prerequisite summary and reconciliation requested', async () => {
    const res = await toggle(group.id, true);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(res.body.group.etag);
    expect(res.body).toMatchObject({ changed: true, reconciliation: { requested: true }, group: { id: group.id, sync: 'enabled', memberCount: 10 } });
    expect(res.body.members).toMatchObject({
      memberCount: 10,
      notConfigured: { NO_USER_RECORD: 1, INVALID_EMAIL: 1, USER_INACTIVE: 1, EMPLOYEE_TERMINATED: 1 },
      affectedContinuationToken: null,
    });
    expect(res.body.members.affected).toHaveLength(4);
    for (const member of res.body.members.affected) {
      expect(member).toEqual({ employeeId: member.employeeId, name: expect.any(String), reason: FAILING[member.employeeId], message: expect.stringMatching(/\S/) });
    }
    expect(res.body.group.counts.not_configured).toBe(4);
  });

  it('is idempotent: a second enable answers changed false and adds no audit row', async () => {
    const rows = (await syncRows(group.id)).length;
    const res = await toggle(group.id, true);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: false, group: { sync: 'enabled' } });
    expect(await syncRows(group.id)).toHaveLength(rows);
  });

  it('disables: changed true, every member disabled', async () => {
    const res = await toggle(group.id, false);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: true, group: { sync: 'disabled', counts: { disabled: 10 } } });
    const [newest] = await syncRows(group.id);
    expect(newest).toMatchObject({ from: 'enabled', to: 'disabled' });
  });
});

describe('mailbox access', () => {
  it('refuses to enable a google group (Gmail is not synchronized yet) and changes nothing', async () => {
    const group = await createGroup(admin, 'gmail', { mailboxAccess: 'google' });
    expectProblem(await toggle(group.id, true), 409, 'MAILBOX_ACCESS_NOT_SUPPORTED');
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body).toMatchObject({ sync: 'disabled', etag: group.etag });
    expect(await syncRows(group.id)).toEqual([]);
  });
});

describe('If-Match', () => {
  it('answers 412 to a stale ETag without changing the group, and accepts the current one', async () => {
    const group = await createGroup(admin, 'ifmatch');
    const renamed = await admin.patch<GroupBody>(`groups/${group.id}`, { description: 'changed meanwhile' });
    expectProblem(await toggle(group.id, true, group.etag), 412, 'PRECONDITION_FAILED');
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body).toMatchObject({ sync: 'disabled', etag: renamed.body.etag });
    expect(await syncRows(group.id)).toEqual([]);

    const accepted = await toggle(group.id, true, renamed.body.etag);
    expect(accepted.status).toBe(200);
    expect(accepted.body.changed).toBe(true);
    expectProblem(await toggle(group.id, false, renamed.body.etag), 412, 'PRECONDITION_FAILED');
    expect((await toggle(group.id, false, '*')).status).toBe(200);
  });
});

describe('concurrency', () => {
  it('20 parallel toggles answer 200 or 412, end in the state of the newest history entry, one audit row per change', async () => {
    const group = await createGroup(admin, 'parallel');
    expect((await admin.post(`groups/${group.id}/members`, { employeeIds: employees(40, 49) })).status).toBe(200);
    const wanted = Array.from({ length: 20 }, (_, i) => i % 3 !== 1);
    const responses = await Promise.all(wanted.map((enabled) => toggle(group.id, enabled)));

    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 412)).toEqual([]);
    for (const res of responses.filter((r) => r.status === 412)) expectProblem(res, 412, 'PRECONDITION_FAILED');
    const changed = responses.filter((r) => r.status === 200 && r.body.changed).length;
    const rows = await syncRows(group.id);
    expect(rows).toHaveLength(changed);

    const final = (await admin.get<GroupBody>(`groups/${group.id}`)).body.sync;
    expect(final).toBe(rows[0]?.to ?? 'disabled');
    // each accepted change flips the switch the one before it left
    rows.forEach((row, i) => expect(row.from).toBe(rows[i + 1]?.to ?? 'disabled'));
  });
});
