import type { TableClient } from '@azure/data-tables';
import type { UserState } from '../../domain/model';
import { ConflictError, PreconditionFailedError } from '../../errors';
import type { UserStateStore } from '../../ports';
import { compact, count, etagOf, flag, json, text, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey } from './limits';

/** Table UserState: PartitionKey = employeeId, RowKey "state". */
const ROW = 'state';
/** Only the most recent errors are kept: enough for the "why" view, bounded in size. */
export const MAX_LAST_ERRORS = 5;

function toEntity(state: Omit<UserState, 'etag'>) {
  return compact({
    partitionKey: checkKey('employeeId', state.employeeId),
    rowKey: ROW,
    userEnabled: state.userEnabled,
    consecutiveFailures: state.consecutiveFailures,
    suspendedReason: state.suspendedReason,
    suspendedAt: state.suspendedAt,
    suspensionNoticeFor: state.suspensionNoticeFor,
    lastErrors: JSON.stringify(state.lastErrors.slice(-MAX_LAST_ERRORS)),
    nextRetryAt: state.nextRetryAt,
    forces: state.forces,
    resyncRequestedAt: state.resyncRequestedAt,
    updatedAt: state.updatedAt,
  });
}

function toState(row: Row): UserState {
  return {
    employeeId: row.partitionKey ?? '',
    userEnabled: flag(row, 'userEnabled', true),
    consecutiveFailures: count(row, 'consecutiveFailures'),
    suspendedReason: textOrNull(row, 'suspendedReason') as UserState['suspendedReason'],
    suspendedAt: textOrNull(row, 'suspendedAt'),
    suspensionNoticeFor: textOrNull(row, 'suspensionNoticeFor'),
    lastErrors: json<UserState['lastErrors']>(row, 'lastErrors', []),
    nextRetryAt: textOrNull(row, 'nextRetryAt'),
    forces: count(row, 'forces'),
    resyncRequestedAt: textOrNull(row, 'resyncRequestedAt'),
    updatedAt: text(row, 'updatedAt'),
    etag: etagOf(row),
  };
}

const stale = () => {
  throw new PreconditionFailedError();
};

export function createUserStateStore(table: TableClient): UserStateStore {
  return {
    async get(employeeId) {
      const row = await storageCall('read user state', () => table.getEntity<Row>(checkKey('employeeId', employeeId), ROW).then((r): Row | null => r), {
        404: () => null,
      });
      return row ? toState(row) : null;
    },

    async save(state, etag) {
      const entity = toEntity(state);
      checkEntity(entity);
      const saved = await (etag === null
        ? storageCall('create user state', () => table.createEntity(entity), {
            409: () => {
              throw new ConflictError('USER_STATE_EXISTS', `State for employee '${state.employeeId}' was just created; re-read it.`);
            },
          })
        : // 404: deleted since it was read — as stale as a changed ETag
          storageCall('update user state', () => table.updateEntity(entity, 'Replace', { etag }), { 404: stale, 412: stale }));
      return { ...state, lastErrors: state.lastErrors.slice(-MAX_LAST_ERRORS), etag: saved.etag ?? '' };
    },

    async delete(employeeId) {
      await storageCall('delete user state', () => table.deleteEntity(checkKey('employeeId', employeeId), ROW).then(() => undefined), { 404: () => undefined });
    },
  };
}
