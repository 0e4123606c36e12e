import { randomBytes } from 'node:crypto';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import type { Member, MemberPrerequisiteCode } from '../../shared/domain/model';
import { ValidationError } from '../../shared/errors';
import type { PageRequest, Page } from '../../shared/ports';

let storage: Storage;

beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  storage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `mem${tag}`, queuePrefix: `mem${tag}-` });
  await storage.ensureReady();
  // A claim counts only while its group exists: the groups these tests fill exist.
  for (const id of ['bulk', 'readd', 'from', 'to', 'rm', 'rm2', 'upd', 'all', 'race', 'ok']) await group(id);
});

async function group(id: string) {
  const at = '2025-01-01T00:00:00.000Z';
  return storage.groups.create({ id, name: `Group ${id}`, description: '', mailboxAccess: 'office365', sync: 'disabled', syncChangedAt: at, createdAt: at, updatedAt: at, updatedBy: 'test' });
}

function member(groupId: string, employeeId: string, prerequisite: MemberPrerequisiteCode | null = null): Member {
  return {
    groupId,
    employeeId,
    name: `Name ${employeeId}`,
    email: `${employeeId}@example.com`,
    prerequisite,
    prerequisiteMessage: prerequisite ? `fails ${prerequisite}` : '',
    checkedAt: '2025-01-01T00:00:00.000Z',
    addedAt: '2025-01-01T00:00:00.000Z',
    addedBy: 'admin',
  };
}

async function collect<T>(list: (page: PageRequest) => Promise<Page<T>>, top: number): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await list({ top, continuationToken: token });
    expect(page.items.length).toBeLessThanOrEqual(top);
    all.push(...page.items);
    token = page.continuationToken ?? undefined;
  } while (token);
  return all;
}

const ids = (members: Member[]) => members.map((m) => m.employeeId).sort();

describe('MemberStore bulk add', () => {
  const codeFor = (i: number): MemberPrerequisiteCode | null => (i % 10 === 0 ? 'INVALID_EMAIL' : i % 25 === 1 ? 'USER_INACTIVE' : null);
  const bulk = Array.from({ length: 250 }, (_, i) => member('bulk', `E${String(i).padStart(3, '0')}`, codeFor(i)));
  const failing = bulk.filter((m) => m.prerequisite);

  beforeAll(async () => {
    const outcomes = await storage.members.add('bulk', bulk, { move: false });
    expect(outcomes.map((o) => o.outcome)).toEqual(bulk.map(() => 'added'));
  });

  it('keeps the summary in step: member count and not-configured counts per code', async () => {
    expect(await storage.members.summary('bulk')).toEqual({ memberCount: 250, notConfigured: { INVALID_EMAIL: 25, USER_INACTIVE: 10 } });
  });

  it('lists every member across pages', async () => {
    const all = await collect((p) => storage.members.list('bulk', p), 60);
    expect(all).toHaveLength(250);
    expect(all[0]).toEqual(bulk[0]);
  });

  it('lists exactly the members with issues from the index', async () => {
    const withIssues = await collect((p) => storage.members.listWithIssues('bulk', p), 7);
    expect(ids(withIssues)).toEqual(ids(failing));
    expect(withIssues.every((m) => m.prerequisite !== null && m.groupId === 'bulk')).toBe(true);
  });

  it('records the group of each member', async () => {
    expect(await storage.members.groupOf('E042')).toBe('bulk');
    expect(await storage.members.get('bulk', 'E010')).toEqual(bulk[10]);
  });
});

describe('MemberStore membership rules', () => {
  it('re-adding refreshes prerequisites, answers already_member and keeps the summary right', async () => {
    await storage.members.add('readd', [member('readd', 'R1', 'NO_USER_RECORD'), member('readd', 'R2')], { move: false });
    const again = await storage.members.add('readd', [{ ...member('readd', 'R1'), addedAt: '2030-01-01T00:00:00.000Z' }, member('readd', 'R3', 'EMPLOYEE_TERMINATED')], { move: false });
    expect(again).toEqual([
      { employeeId: 'R1', outcome: 'already_member' },
      { employeeId: 'R3', outcome: 'added' },
    ]);
    const r1 = await storage.members.get('readd', 'R1');
    expect(r1).toMatchObject({ prerequisite: null, addedAt: '2025-01-01T00:00:00.000Z' });
    expect(await storage.members.summary('readd')).toEqual({ memberCount: 3, notConfigured: { EMPLOYEE_TERMINATED: 1 } });
    expect(ids(await collect((p) => storage.members.listWithIssues('readd', p), 10))).toEqual(['R3']);
  });

  it('refuses a member of another group unless move is set, then moves them', async () => {
    await storage.members.add('from', [member('from', 'M1', 'INVALID_EMAIL'), member('from', 'M2')], { move: false });
    const refused = await storage.members.add('to', [member('to', 'M1'), member('to', 'M3')], { move: false });
    expect(refused).toEqual([
      { employeeId: 'M1', outcome: 'conflict', otherGroupId: 'from' },
      { employeeId: 'M3', outcome: 'added' },
    ]);
    expect(await storage.members.get('to', 'M1')).toBeNull();
    expect(await storage.members.groupOf('M1')).toBe('from');

    const moved = await storage.members.add('to', [member('to', 'M1')], { move: true });
    expect(moved).toEqual([{ employeeId: 'M1', outcome: 'moved', fromGroupId: 'from' }]);
    expect(await storage.members.groupOf('M1')).toBe('to');
    expect(await storage.members.get('from', 'M1')).toBeNull();
    expect(await storage.members.summary('from')).toEqual({ memberCount: 1, notConfigured: {} });
    expect(await collect((p) => storage.members.listWithIssues('from', p), 10)).toEqual([]);
    expect(await storage.members.summary('to')).toEqual({ memberCount: 2, notConfigured: {} });
  });

  it('remove deletes the member, its index row, its summary share and its claim', async () => {
    await storage.members.add('rm', [member('rm', 'X1', 'USER_INACTIVE'), member('rm', 'X2')], { move: false });
    expect(await storage.members.remove('rm', 'X1')).toBe(true);
    expect(await storage.members.remove('rm', 'X1')).toBe(false);
    expect(await storage.members.get('rm', 'X1')).toBeNull();
    expect(await storage.members.groupOf('X1')).toBeNull();
    expect(await storage.members.summary('rm')).toEqual({ memberCount: 1, notConfigured: {} });
    expect(await collect((p) => storage.members.listWithIssues('rm', p), 10)).toEqual([]);
    // free to join another group now
    expect(await storage.members.add('rm2', [member('rm2', 'X1')], { move: false })).toEqual([{ employeeId: 'X1', outcome: 'added' }]);
  });

  it('updatePrerequisites re-records results and keeps summary and index in step, skipping non-members', async () => {
    await storage.members.add('upd', [member('upd', 'U1'), member('upd', 'U2', 'INVALID_EMAIL')], { move: false });
    await storage.members.updatePrerequisites('upd', [member('upd', 'U1', 'NO_EMPLOYEE_RECORD'), member('upd', 'U2'), member('upd', 'U9', 'INVALID_EMAIL')]);
    expect(await storage.members.summary('upd')).toEqual({ memberCount: 2, notConfigured: { NO_EMPLOYEE_RECORD: 1 } });
    expect(ids(await collect((p) => storage.members.listWithIssues('upd', p), 10))).toEqual(['U1']);
    expect(await storage.members.get('upd', 'U9')).toBeNull();
  });

  it('removeAll empties the group and frees every member', async () => {
    const many = Array.from({ length: 120 }, (_, i) => member('all', `A${i}`, i % 2 ? 'INVALID_EMAIL' : null));
    await storage.members.add('all', many, { move: false });
    await storage.statusSummaries.put('all', { counts: { active: 1, pending: 0, with_issues: 0, suspended: 0, not_configured: 0, disabled: 0 }, computedAt: 'now', switchAt: 'then' });
    expect(await storage.members.removeAll('all')).toEqual({ removed: 120, done: true });
    expect(await storage.members.summary('all')).toEqual({ memberCount: 0, notConfigured: {} });
    expect(await storage.members.list('all', { top: 10 })).toEqual({ items: [], continuationToken: null });
    expect(await storage.statusSummaries.get('all')).toBeNull();
    expect(await storage.members.groupOf('A7')).toBeNull();
  });

  it('concurrent adds to one group keep the summary exact (ETag on the summary)', async () => {
    const batches = [0, 1, 2, 3].map((b) => Array.from({ length: 10 }, (_, i) => member('race', `C${b}-${i}`, i === 0 ? 'USER_INACTIVE' : null)));
    await Promise.all(batches.map((batch) => storage.members.add('race', batch, { move: false })));
    expect(await storage.members.summary('race')).toEqual({ memberCount: 40, notConfigured: { USER_INACTIVE: 4 } });
  });

  it('rejects forbidden key characters before any call', async () => {
    await expect(storage.members.add('g#1', [member('g#1', 'E1')], { move: false })).rejects.toBeInstanceOf(ValidationError);
    const err = await storage.members.add('ok', [member('ok', 'fine'), member('ok', 'bad/id')], { move: false }).catch((e: unknown) => e);
    expect((err as ValidationError).errors[0]?.field).toBe('members.1.employeeId');
    expect(await storage.members.groupOf('fine')).toBeNull();
  });
});
