import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { TABLES } from '../../shared/functionRegistry';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import type { Group } from '../../shared/domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../../shared/errors';
import type { NewGroup } from '../../shared/ports';

let storage: Storage;
let groupsTable: TableClient;

beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  storage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `grp${tag}`, queuePrefix: `grp${tag}-` });
  groupsTable = TableClient.fromConnectionString(process.env.TEST_STORAGE_CONNECTION as string, `grp${tag}${TABLES.groups}`, { allowInsecureConnection: true });
  await storage.ensureReady();
});

function newGroup(id: string, name = `Group ${id}`, extra: Partial<NewGroup> = {}): NewGroup {
  const at = '2025-01-01T00:00:00.000Z';
  return { id, name, description: '', mailboxAccess: 'office365', sync: 'disabled', syncChangedAt: at, createdAt: at, updatedAt: at, updatedBy: 'admin', ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('GroupStore', () => {
  it('creates and reads a group with its etag', async () => {
    const created = await storage.groups.create(newGroup('create-1', 'Create One', { description: 'Δ desc / # ?' }));
    expect(created.etag).toBeTruthy();
    expect(await storage.groups.get('create-1')).toEqual(created);
    expect(await storage.groups.get('missing')).toBeNull();
  });

  it('ensureReady is idempotent', async () => {
    await expect(storage.ensureReady()).resolves.toBeUndefined();
  });

  it('refuses a duplicate id with DUPLICATE_ID', async () => {
    await storage.groups.create(newGroup('dup-id', 'Dup Id A'));
    const err = await rejection(storage.groups.create(newGroup('dup-id', 'Dup Id B')));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('DUPLICATE_ID');
  });

  it('refuses a duplicate name ignoring case with DUPLICATE_NAME, and keeps nothing of the loser', async () => {
    await storage.groups.create(newGroup('dup-name-1', 'Sales / West #1'));
    const err = await rejection(storage.groups.create(newGroup('dup-name-2', 'SALES / west #1')));
    expect((err as ConflictError).code).toBe('DUPLICATE_NAME');
    expect(await storage.groups.get('dup-name-2')).toBeNull();
  });

  it('renames, frees the old name, and refuses a rename onto a taken name', async () => {
    const a = await storage.groups.create(newGroup('ren-a', 'Rename A'));
    await storage.groups.create(newGroup('ren-b', 'Rename B'));
    const renamed = await storage.groups.update('ren-a', { name: 'Rename C', updatedBy: 'x' }, a.etag);
    expect(renamed).toMatchObject({ name: 'Rename C', updatedBy: 'x' });
    expect(renamed.etag).not.toBe(a.etag);
    // the old name is free again
    await storage.groups.create(newGroup('ren-d', 'rename a'));
    const err = await rejection(storage.groups.update('ren-a', { name: 'RENAME b' }, renamed.etag));
    expect((err as ConflictError).code).toBe('DUPLICATE_NAME');
    expect((await storage.groups.get('ren-a'))?.name).toBe('Rename C');
  });

  it('changes only the case of its own name', async () => {
    const g = await storage.groups.create(newGroup('case-1', 'Case Only'));
    const updated = await storage.groups.update('case-1', { name: 'CASE ONLY' }, g.etag);
    expect(updated.name).toBe('CASE ONLY');
  });

  it('answers 412 on a stale etag for update and delete', async () => {
    const g = await storage.groups.create(newGroup('stale-1', 'Stale One'));
    const updated = await storage.groups.update('stale-1', { sync: 'enabled' }, g.etag);
    expect(await rejection(storage.groups.update('stale-1', { description: 'late' }, g.etag))).toBeInstanceOf(PreconditionFailedError);
    expect(await rejection(storage.groups.delete('stale-1', g.etag))).toBeInstanceOf(PreconditionFailedError);
    expect((await storage.groups.get('stale-1'))?.sync).toBe('enabled');
    await storage.groups.delete('stale-1', updated.etag);
    expect(await storage.groups.get('stale-1')).toBeNull();
    expect(await rejection(storage.groups.delete('stale-1', updated.etag))).toBeInstanceOf(NotFoundError);
  });

  it('frees the name of a deleted group', async () => {
    const g = await storage.groups.create(newGroup('del-1', 'Deleted Name'));
    await storage.groups.delete('del-1', g.etag);
    await expect(storage.groups.create(newGroup('del-2', 'deleted name'))).resolves.toMatchObject({ id: 'del-2' });
  });

  it('takes over a name claim left behind by an interrupted delete', async () => {
    const g = await storage.groups.create(newGroup('orphan-1', 'Orphaned Name'));
    // simulate a delete that stopped after removing the group row, before releasing the claim
    await groupsTable.deleteEntity('groups', 'g|orphan-1', { etag: g.etag });
    await expect(storage.groups.create(newGroup('orphan-2', 'ORPHANED name'))).resolves.toMatchObject({ id: 'orphan-2' });
    await expect(storage.groups.create(newGroup('orphan-3', 'orphaned name'))).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
  });

  it('rejects forbidden key characters before calling storage', async () => {
    const err = await rejection(storage.groups.create(newGroup('bad/id')));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).errors[0]?.field).toBe('id');
    expect(await rejection(storage.groups.get('a#b'))).toBeInstanceOf(ValidationError);
  });

  it('rejects an oversized description with a clear error', async () => {
    const err = await rejection(storage.groups.create(newGroup('big-1', 'Big', { description: 'x'.repeat(40_000) })));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).errors[0]?.field).toBe('description');
    expect(await storage.groups.get('big-1')).toBeNull();
  });
});

describe('GroupStore.list', () => {
  let listStorage: Storage;
  beforeAll(async () => {
    const tag = randomBytes(4).toString('hex');
    listStorage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `lst${tag}`, queuePrefix: `lst${tag}-` });
    await listStorage.ensureReady();
    for (let i = 0; i < 25; i++) {
      const id = `g${String(i).padStart(2, '0')}`;
      await listStorage.groups.create(newGroup(id, i % 3 === 0 ? `Alpha Team ${i}` : `Beta ${i}`, { sync: i % 2 === 0 ? 'enabled' : 'disabled' }));
    }
  });

  async function all(query: { top: number; filter?: string; sync?: 'enabled' | 'disabled' }): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await listStorage.groups.list({ ...query, continuationToken: token });
      expect(page.items.length).toBeLessThanOrEqual(query.top);
      ids.push(...page.items.map((g: Group) => g.id));
      token = page.continuationToken ?? undefined;
      pages += 1;
    } while (token);
    return { ids, pages };
  }

  it('pages through every group in order, the last page without a token', async () => {
    const { ids, pages } = await all({ top: 7 });
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `g${String(i).padStart(2, '0')}`));
    expect(pages).toBe(4);
  });

  it('filters case-insensitively on name or id across pages', async () => {
    const byName = await all({ top: 2, filter: 'aLPHA' });
    expect(byName.ids).toEqual(['g00', 'g03', 'g06', 'g09', 'g12', 'g15', 'g18', 'g21', 'g24']);
    expect(byName.pages).toBe(5);
    const byId = await all({ top: 10, filter: 'G1' });
    expect(byId.ids).toEqual(['g10', 'g11', 'g12', 'g13', 'g14', 'g15', 'g16', 'g17', 'g18', 'g19']);
    expect(byId.pages).toBe(1);
  });

  it('combines the sync filter with the text filter', async () => {
    const { ids } = await all({ top: 3, filter: 'alpha', sync: 'enabled' });
    expect(ids).toEqual(['g00', 'g06', 'g12', 'g18', 'g24']);
  });

  it('rejects a forged continuation token', async () => {
    await expect(listStorage.groups.list({ top: 5, continuationToken: 'not-a-token' })).rejects.toBeInstanceOf(ValidationError);
  });
});
