import { createHash } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Group, MailboxAccess, SyncSwitch } from '../../domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../errors';
import type { GroupPatch, GroupStore, NewGroup, Page, PageRequest } from '../../ports';
import { etagOf, text, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey, foldCase } from './limits';
import { rowRangeFilter, scanPage } from './scan';

/**
 * Every group and every name claim share one partition, so that create and rename are
 * single atomic transactions (group row + case-insensitive name claim). Groups number
 * in the hundreds, far below a partition's 2,000 entities/s.
 */
const PARTITION = 'groups';
const GROUP_ROW = 'g|';
/** Name claims are keyed by a hash of the folded name: names may contain characters keys may not. */
const NAME_ROW = 'n|';

const groupRowKey = (id: string) => checkKey('id', id, GROUP_ROW);
const nameRowKey = (name: string) => `${NAME_ROW}${createHash('sha256').update(foldCase(name)).digest('hex')}`;

function toEntity(group: NewGroup) {
  return {
    partitionKey: PARTITION,
    rowKey: groupRowKey(group.id),
    id: group.id,
    name: group.name,
    description: group.description,
    mailboxAccess: group.mailboxAccess,
    sync: group.sync,
    syncChangedAt: group.syncChangedAt,
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
    updatedBy: group.updatedBy,
    ...(group.deletingSince ? { deletingSince: group.deletingSince } : {}),
  };
}

function toGroup(row: Row): Group {
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    description: text(row, 'description'),
    mailboxAccess: text(row, 'mailboxAccess') as MailboxAccess,
    sync: text(row, 'sync') as SyncSwitch,
    syncChangedAt: text(row, 'syncChangedAt'),
    createdAt: text(row, 'createdAt'),
    updatedAt: text(row, 'updatedAt'),
    updatedBy: text(row, 'updatedBy'),
    ...(textOrNull(row, 'deletingSince') ? { deletingSince: textOrNull(row, 'deletingSince') } : {}),
    etag: etagOf(row),
  };
}

const duplicateName = (name: string) =>
  new ConflictError('DUPLICATE_NAME', `A group named '${name}' already exists (names are unique ignoring case).`);
const duplicateId = (id: string) => new ConflictError('DUPLICATE_ID', `A group with id '${id}' already exists.`);
const stillDeleting = (id: string) =>
  new ConflictError('GROUP_DELETING', `Group '${id}' is still being deleted (its members are being released); retry shortly.`);
/** A row of a group whose delete was accepted: gone for every reader but the release job. */
const isDeleting = (row: Row | null) => row !== null && textOrNull(row, 'deletingSince') !== null;
const notFound = (id: string) => new NotFoundError('GROUP_NOT_FOUND', `Group '${id}' does not exist.`);

export function createGroupStore(table: TableClient): GroupStore {
  const read = (rowKey: string) =>
    storageCall('read group', () => table.getEntity<Row>(PARTITION, rowKey).then((r): Row | null => r), { 404: () => null });

  /**
   * The name-claim action for a transaction. A claim whose group is gone (a delete that
   * stopped between its two steps) is stale and is taken over rather than blocking the name forever.
   */
  async function claimName(name: string, groupId: string): Promise<TransactionAction> {
    const claim = { partitionKey: PARTITION, rowKey: nameRowKey(name), groupId, name };
    const existing = await read(claim.rowKey);
    if (!existing) return ['create', claim];
    const owner = text(existing, 'groupId');
    const ownerRow = owner === groupId ? null : await read(groupRowKey(owner));
    if (owner === groupId || ownerRow === null || isDeleting(ownerRow)) {
      return ['update', claim, 'Replace', { etag: etagOf(existing) }];
    }
    throw duplicateName(name);
  }

  /** Submits a transaction whose first action writes the group row; returns that row's new ETag. */
  async function submit(action: string, actions: TransactionAction[], on409: () => Error): Promise<string> {
    const response = await storageCall(action, () => table.submitTransaction(actions), {
      409: () => {
        throw on409();
      },
      412: () => {
        throw new PreconditionFailedError();
      },
    });
    // sub-responses come in action order (only creates name their row): the group row's action is first
    return response.subResponses[0]?.etag ?? '';
  }

  /** Deletes the name claim if it still names this group (a new group may have taken the name since). */
  async function releaseName(name: string, groupId: string): Promise<void> {
    const claim = await read(nameRowKey(name));
    if (!claim || text(claim, 'groupId') !== groupId) return;
    await storageCall('release group name', () => table.deleteEntity(PARTITION, claim.rowKey ?? '', { etag: etagOf(claim) }).then(() => undefined), {
      404: () => undefined,
      412: () => undefined,
    });
  }

  async function current(id: string, etag: string): Promise<Row> {
    const row = await read(groupRowKey(id));
    if (!row) throw notFound(id);
    if (etagOf(row) !== etag) throw new PreconditionFailedError();
    return row;
  }

  return {
    async create(group) {
      const entity = toEntity(group);
      checkEntity(entity);
      const existing = await read(entity.rowKey);
      // The old group's members must be gone first, or they would come back in the new one.
      if (existing) throw isDeleting(existing) ? stillDeleting(group.id) : duplicateId(group.id);
      const claim = await claimName(group.name, group.id);
      const etag = await submit('create group', [['create', entity], claim], () => duplicateName(group.name)).catch(async (err: unknown) => {
        // lost a race with a concurrent create: tell which key it took
        if (err instanceof ConflictError && (await read(entity.rowKey))) throw duplicateId(group.id);
        throw err;
      });
      return { ...group, etag };
    },

    async get(id) {
      const row = await read(groupRowKey(id));
      return row && !isDeleting(row) ? toGroup(row) : null;
    },

    async getDeleting(id) {
      const row = await read(groupRowKey(id));
      return row && isDeleting(row) ? toGroup(row) : null;
    },

    async listDeleting() {
      const filter = odata`PartitionKey eq ${PARTITION} and RowKey ge ${GROUP_ROW} and RowKey lt ${'g}'} and deletingSince ge ${''}`;
      const pages = table.listEntities<Row>({ queryOptions: { filter, select: ['id', 'deletingSince'] } }).byPage({ maxPageSize: 1000 });
      const ids: string[] = [];
      const next = () => storageCall('list deleting groups', () => pages.next());
      for (let page = await next(); !page.done; page = await next()) ids.push(...page.value.filter(isDeleting).map((r) => text(r, 'id')));
      return ids;
    },

    async markDeleting(id, etag, at) {
      const row = await current(id, etag);
      if (isDeleting(row)) throw notFound(id);
      const group: Group = { ...toGroup(row), deletingSince: at };
      const saved = await storageCall('mark group deleting', () => table.updateEntity(toEntity(group), 'Replace', { etag }), {
        404: () => {
          throw notFound(id);
        },
        412: () => {
          throw new PreconditionFailedError();
        },
      });
      // The name is free at once: the group is gone for every reader.
      await releaseName(group.name, id);
      return { ...group, etag: saved.etag ?? '' };
    },

    list(query) {
      return listGroups(table, query);
    },

    async update(id, patch, etag) {
      const before = toGroup(await current(id, etag));
      const after: Group = { ...before, ...definedFields(patch) };
      const entity = toEntity(after);
      checkEntity(entity);
      const actions: TransactionAction[] = [['update', entity, 'Replace', { etag }]];
      if (foldCase(after.name) !== foldCase(before.name)) {
        actions.push(await claimName(after.name, id));
        const oldClaim = await read(nameRowKey(before.name));
        if (oldClaim && text(oldClaim, 'groupId') === id) actions.push(['delete', { partitionKey: PARTITION, rowKey: nameRowKey(before.name) }]);
      }
      const newEtag = await submit('update group', actions, () => duplicateName(after.name));
      return { ...after, etag: newEtag };
    },

    async delete(id, etag) {
      const row = await current(id, etag);
      // Transactions cannot carry an ETag on a delete, so the group row goes first (conditionally)
      // and the claim after; a claim left behind by a crash is taken over by claimName.
      await storageCall('delete group', () => table.deleteEntity(PARTITION, groupRowKey(id), { etag }), {
        404: () => {
          throw notFound(id);
        },
        412: () => {
          throw new PreconditionFailedError();
        },
      });
      await releaseName(text(row, 'name'), id);
    },
  };
}

function definedFields(patch: GroupPatch): GroupPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as GroupPatch;
}

function listGroups(table: TableClient, query: PageRequest & { filter?: string | undefined; sync?: SyncSwitch | undefined }): Promise<Page<Group>> {
  const needle = query.filter ? foldCase(query.filter) : '';
  // Table Storage has no substring operator: the sync switch filters on the server, the text in code.
  const syncFilter = query.sync ? odata`sync eq ${query.sync}` : undefined;
  return scanPage<Group>({
    table,
    action: 'list groups',
    page: query,
    filter: (after) => rowRangeFilter(PARTITION, GROUP_ROW, after, syncFilter),
    toItem: (row) => {
      if (isDeleting(row)) return null;
      const group = toGroup(row);
      return !needle || foldCase(group.name).includes(needle) || foldCase(group.id).includes(needle) ? group : null;
    },
    cursorOf: (row) => row.rowKey ?? '',
  });
}
