import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { ConflictError, PreconditionFailedError } from '../../errors';
import type { ActivityLink, ActivityLinkStore, DataSyncState, DataSyncStateStore } from '../../ports';
import { compact, count, etagOf, json, text, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey } from './limits';
import { scanPage } from './scan';

/**
 * Table ActivityLinks, one partition per employee:
 * - RowKey "e-{sha256(eventId)}": the mapping (employee, Graph event id) → activity. Graph event ids
 *   may hold characters a key cannot (and are long), so the key is a digest and the id a property.
 * - RowKey "state": the user's data-sync counters, last outcome and delta link.
 */
const LINK_PREFIX = 'e-';
const STATE_ROW = 'state';

export function linkRowKey(eventId: string): string {
  return `${LINK_PREFIX}${createHash('sha256').update(eventId, 'utf8').digest('hex')}`;
}

function toLinkEntity(link: Omit<ActivityLink, 'etag'>) {
  return compact({
    partitionKey: checkKey('employeeId', link.employeeId),
    rowKey: linkRowKey(link.eventId),
    eventId: link.eventId,
    state: link.state,
    activityId: link.activityId,
    changeKey: link.changeKey,
    digest: link.digest,
    reference: link.reference,
    intentAt: link.intentAt,
    subject: link.subject,
    lastSyncedAt: link.lastSyncedAt,
  });
}

function toLink(row: Row): ActivityLink {
  return {
    employeeId: row.partitionKey ?? '',
    eventId: text(row, 'eventId'),
    state: (textOrNull(row, 'state') ?? 'synced') as ActivityLink['state'],
    activityId: textOrNull(row, 'activityId'),
    changeKey: textOrNull(row, 'changeKey'),
    digest: textOrNull(row, 'digest'),
    reference: text(row, 'reference'),
    intentAt: textOrNull(row, 'intentAt'),
    subject: text(row, 'subject'),
    lastSyncedAt: text(row, 'lastSyncedAt'),
    etag: etagOf(row),
  };
}

const stale = () => {
  throw new PreconditionFailedError();
};

/** Create when etag is null (409 → ConflictError), otherwise replace under the etag (412/404 → stale). */
async function saveRow(table: TableClient, entity: { partitionKey: string; rowKey: string } & Record<string, unknown>, etag: string | null, what: string): Promise<string> {
  checkEntity(entity);
  const saved = await (etag === null
    ? storageCall(`create ${what}`, () => table.createEntity(entity), {
        409: () => {
          throw new ConflictError('ALREADY_EXISTS', `The ${what} was just created by another writer; re-read it.`);
        },
      })
    : storageCall(`update ${what}`, () => table.updateEntity(entity, 'Replace', { etag }), { 404: stale, 412: stale }));
  return saved.etag ?? '';
}

export function createActivityLinkStore(table: TableClient): ActivityLinkStore {
  return {
    async get(employeeId, eventId) {
      const row = await storageCall('read activity link', () => table.getEntity<Row>(checkKey('employeeId', employeeId), linkRowKey(eventId)).then((r): Row | null => r), {
        404: () => null,
      });
      return row ? toLink(row) : null;
    },
    async save(link, etag) {
      const newEtag = await saveRow(table, toLinkEntity(link), etag, 'activity link');
      return { ...link, etag: newEtag };
    },
    async delete(employeeId, eventId, etag) {
      await storageCall(
        'delete activity link',
        () => table.deleteEntity(checkKey('employeeId', employeeId), linkRowKey(eventId), { etag }).then(() => undefined),
        { 404: () => undefined, 412: stale },
      );
    },
    listForUser(employeeId, page) {
      const pk = checkKey('employeeId', employeeId);
      return scanPage({
        table,
        action: 'list activity links',
        page,
        filter: (after) =>
          after === null
            ? odata`PartitionKey eq ${pk} and RowKey ge ${LINK_PREFIX} and RowKey lt ${'e.'}`
            : odata`PartitionKey eq ${pk} and RowKey gt ${after} and RowKey lt ${'e.'}`,
        toItem: toLink,
        cursorOf: (row) => row.rowKey ?? '',
      });
    },
  };
}

function toState(row: Row): DataSyncState {
  return {
    employeeId: row.partitionKey ?? '',
    created: count(row, 'created'),
    updated: count(row, 'updated'),
    deleted: count(row, 'deleted'),
    skipped: count(row, 'skipped'),
    failed: count(row, 'failed'),
    lastItem: json<DataSyncState['lastItem']>(row, 'lastItem', null),
    lastError: json<DataSyncState['lastError']>(row, 'lastError', null),
    delta: json<DataSyncState['delta']>(row, 'delta', null),
    catchUpRequestedAt: textOrNull(row, 'catchUpRequestedAt'),
    updatedAt: text(row, 'updatedAt'),
    etag: etagOf(row),
  };
}

export function createDataSyncStateStore(table: TableClient): DataSyncStateStore {
  return {
    async get(employeeId) {
      const row = await storageCall('read data-sync state', () => table.getEntity<Row>(checkKey('employeeId', employeeId), STATE_ROW).then((r): Row | null => r), {
        404: () => null,
      });
      return row ? toState(row) : null;
    },
    async save(state, etag) {
      const entity = compact({
        partitionKey: checkKey('employeeId', state.employeeId),
        rowKey: STATE_ROW,
        created: state.created,
        updated: state.updated,
        deleted: state.deleted,
        skipped: state.skipped,
        failed: state.failed,
        lastItem: state.lastItem ? JSON.stringify(state.lastItem) : null,
        lastError: state.lastError ? JSON.stringify(state.lastError) : null,
        delta: state.delta ? JSON.stringify(state.delta) : null,
        catchUpRequestedAt: state.catchUpRequestedAt,
        updatedAt: state.updatedAt,
      });
      const newEtag = await saveRow(table, entity, etag, 'data-sync state');
      return { ...state, etag: newEtag };
    },
  };
}
