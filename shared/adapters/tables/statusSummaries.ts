import type { TableClient } from '@azure/data-tables';
import { SYNC_STATUSES, type StatusCounts } from '../../domain/model';
import type { GroupHold, RemovalConfirmationStore, StatusSummaryStore } from '../../ports';
import { json, text, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey } from './limits';
import { STATUS_ROW } from './members';

/** Lives in the group's Members partition (row `~status`), so group deletion removes it with the members. */
export function createStatusSummaryStore(members: TableClient): StatusSummaryStore {
  return {
    async get(groupId) {
      const row = await storageCall(
        'read status summary',
        () => members.getEntity<Row>(checkKey('groupId', groupId), STATUS_ROW).then((r): Row | null => r),
        { 404: () => null },
      );
      if (!row) return null;
      const stored = json<Partial<StatusCounts>>(row, 'counts', {});
      const counts = Object.fromEntries(SYNC_STATUSES.map((s) => [s, stored[s] ?? 0])) as StatusCounts;
      const hold = json<GroupHold | null>(row, 'hold', null);
      const passStartedAt = text(row, 'passStartedAt');
      return { counts, computedAt: text(row, 'computedAt'), switchAt: text(row, 'switchAt'), ...(hold ? { hold } : {}), ...(passStartedAt ? { passStartedAt } : {}) };
    },

    async put(groupId, summary) {
      const entity = {
        partitionKey: checkKey('groupId', groupId),
        rowKey: STATUS_ROW,
        counts: JSON.stringify(summary.counts),
        computedAt: summary.computedAt,
        switchAt: summary.switchAt,
        ...(summary.hold ? { hold: JSON.stringify(summary.hold) } : {}),
        ...(summary.passStartedAt ? { passStartedAt: summary.passStartedAt } : {}),
      };
      checkEntity(entity);
      if (!summary.passStartedAt) {
        await storageCall('write status summary', () => members.upsertEntity(entity, 'Replace'));
        return;
      }
      // Two passes of one group can overlap: the one that started later counted later, so an
      // earlier pass finishing last must not put its older counts back (ETag-guarded).
      for (let attempt = 0; attempt < 5; attempt++) {
        const row = await storageCall('read status summary', () => members.getEntity<Row>(entity.partitionKey, STATUS_ROW).then((r): Row | null => r), {
          404: () => null,
        });
        const stored = row ? text(row, 'passStartedAt') : '';
        if (stored && stored > summary.passStartedAt) return;
        const written = await storageCall(
          'write status summary',
          () => (row ? members.updateEntity(entity, 'Replace', { etag: String(row.etag) }) : members.createEntity(entity)).then(() => true),
          { 409: () => false, 412: () => false },
        );
        if (written) return;
      }
    },
  };
}

export const CONFIRM_ROW = '~confirm';

/** Lives in the group's Members partition (row `~confirm`); written only by the confirm-removals request. */
export function createRemovalConfirmationStore(members: TableClient): RemovalConfirmationStore {
  return {
    async get(groupId) {
      const row = await storageCall(
        'read removal confirmation',
        () => members.getEntity<Row>(checkKey('groupId', groupId), CONFIRM_ROW).then((r): Row | null => r),
        { 404: () => null },
      );
      return row ? { heldAt: text(row, 'heldAt'), count: typeof row.count === 'number' ? row.count : null, by: text(row, 'by'), at: text(row, 'at') } : null;
    },
    async put(groupId, confirmation) {
      const { count, ...rest } = confirmation;
      const entity = { partitionKey: checkKey('groupId', groupId), rowKey: CONFIRM_ROW, ...rest, ...(count === null ? {} : { count }) };
      checkEntity(entity);
      await storageCall('write removal confirmation', () => members.upsertEntity(entity, 'Replace'));
    },
  };
}
