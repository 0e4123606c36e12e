import type { TableClient } from '@azure/data-tables';
import type { PassLeaseStore } from '../../ports';
import { etagOf, text, type Row } from './entity';
import { storageCall } from './failures';
import { checkKey } from './limits';

export const LEASE_ROW = '~pass';

/** Lives in the group's Members partition (row `~pass`), so group deletion removes it with the members. */
export function createPassLeaseStore(members: TableClient): PassLeaseStore {
  const read = (groupId: string) =>
    storageCall('read pass lease', () => members.getEntity<Row>(checkKey('groupId', groupId), LEASE_ROW).then((r): Row | null => r), { 404: () => null });

  return {
    async get(groupId) {
      const row = await read(groupId);
      return row ? { holder: text(row, 'holder'), until: text(row, 'until') } : null;
    },

    async put(groupId, lease) {
      const entity = { partitionKey: checkKey('groupId', groupId), rowKey: LEASE_ROW, holder: lease.holder.slice(0, 256), until: lease.until };
      await storageCall('write pass lease', () => members.upsertEntity(entity, 'Replace'));
    },

    async release(groupId, holder) {
      const row = await read(groupId);
      if (!row || text(row, 'holder') !== holder) return;
      // Guarded by the ETag: a lease taken over since the read is left alone.
      await storageCall('release pass lease', () => members.deleteEntity(groupId, LEASE_ROW, { etag: etagOf(row) }), { 404: () => undefined, 412: () => undefined });
    },
  };
}
