import type { TableClient } from '@azure/data-tables';
import type { LeaseClaim, PassLease, PassLeaseStore } from '../../ports';
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
      return row ? { holder: text(row, 'holder'), until: text(row, 'until'), ...(text(row, 'passOf') ? { passOf: text(row, 'passOf') } : {}) } : null;
    },

    async acquire(groupId, lease, now, options = {}) {
      const entity = (followUp: boolean) => ({ ...toEntity(groupId, lease), followUp });
      for (let attempt = 0; attempt < 5; attempt++) {
        const row = await read(groupId);
        if (!row) {
          const created = await storageCall('take pass lease', () => members.createEntity(entity(false)).then(() => true), { 409: () => false });
          if (created) return { acquired: true };
          continue;
        }
        const held = { holder: text(row, 'holder'), until: text(row, 'until'), passOf: text(row, 'passOf') };
        const free = held.holder === lease.holder || Date.parse(held.until) <= now.getTime() || (!!lease.passOf && !!held.passOf && held.passOf < lease.passOf);
        if (free) {
          // Renewing keeps an owed follow-up; a new holder's pass is the follow-up (it reads everything afresh).
          const keep = held.holder === lease.holder && row.followUp === true;
          const taken = await storageCall('take pass lease', () => members.updateEntity(entity(keep), 'Replace', { etag: etagOf(row) }).then(() => true), {
            404: () => false,
            412: () => false,
          });
          if (taken) return { acquired: true };
          continue;
        }
        const owed = row.followUp === true;
        if (options.followUp && !owed) {
          const marked = await storageCall('mark pass follow-up', () => members.updateEntity({ partitionKey: groupId, rowKey: LEASE_ROW, followUp: true }, 'Merge', { etag: etagOf(row) }).then(() => true), {
            404: () => false,
            412: () => false,
          });
          if (!marked) continue;
        }
        return { acquired: false, holder: held.holder, until: held.until, followUpQueued: owed } satisfies LeaseClaim;
      }
      // Five lost races in a row: someone else is busy with this lease; report it held.
      const row = await read(groupId);
      return { acquired: false, holder: row ? text(row, 'holder') : '', until: row ? text(row, 'until') : now.toISOString(), followUpQueued: false };
    },

    async put(groupId, lease) {
      await storageCall('write pass lease', () => members.upsertEntity(toEntity(groupId, lease), 'Replace'));
    },

    async release(groupId, holder) {
      const row = await read(groupId);
      if (!row || text(row, 'holder') !== holder) return;
      // Guarded by the ETag: a lease taken over since the read is left alone.
      await storageCall('release pass lease', () => members.deleteEntity(groupId, LEASE_ROW, { etag: etagOf(row) }), { 404: () => undefined, 412: () => undefined });
    },
  };
}

function toEntity(groupId: string, lease: PassLease) {
  return { partitionKey: checkKey('groupId', groupId), rowKey: LEASE_ROW, holder: lease.holder.slice(0, 256), until: lease.until, passOf: lease.passOf ?? '' };
}
