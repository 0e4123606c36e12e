import type { TableClient } from '@azure/data-tables';
import { SYNC_STATUSES, type StatusCounts } from '../../domain/model';
import type { StatusSummaryStore } from '../../ports';
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
      return { counts, computedAt: text(row, 'computedAt'), switchAt: text(row, 'switchAt') };
    },

    async put(groupId, summary) {
      // derived data, last writer wins: no ETag
      const entity = { partitionKey: checkKey('groupId', groupId), rowKey: STATUS_ROW, counts: JSON.stringify(summary.counts), computedAt: summary.computedAt, switchAt: summary.switchAt };
      checkEntity(entity);
      await storageCall('write status summary', () => members.upsertEntity(entity, 'Replace'));
    },
  };
}
