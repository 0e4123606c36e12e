import type { TableClient } from '@azure/data-tables';
import { PreconditionFailedError } from '../../errors';
import type { GraphAccess, GraphAccessStore, ProviderAccessCause } from '../../ports';
import { compact, etagOf, json, textOrNull, type Row } from './entity';
import { storageCall } from './failures';

/** Table GraphWriters, partition `access`, one row: the organisation's Graph access (the breaker). */
const PARTITION = 'access';
const ROW = 'graph';

export function createGraphAccessStore(table: TableClient): GraphAccessStore {
  const stale = () => {
    throw new PreconditionFailedError();
  };
  return {
    async get() {
      const row = await storageCall('read Graph access', () => table.getEntity<Row>(PARTITION, ROW).then((r): Row | null => r), { 404: () => null });
      if (!row) return null;
      const access: GraphAccess = {
        state: row.state === 'failing' ? 'failing' : 'ok',
        cause: textOrNull(row, 'cause') as ProviderAccessCause | null,
        code: textOrNull(row, 'code'),
        message: textOrNull(row, 'message'),
        since: textOrNull(row, 'since'),
        lastProbeAt: textOrNull(row, 'lastProbeAt'),
        probeEmployeeIds: json<string[]>(row, 'probeEmployeeIds', []),
      };
      return { access, etag: etagOf(row) };
    },
    async save(access, etag) {
      const entity = compact({
        partitionKey: PARTITION,
        rowKey: ROW,
        state: access.state,
        cause: access.cause,
        code: access.code,
        message: access.message?.slice(0, 1000),
        since: access.since,
        lastProbeAt: access.lastProbeAt,
        probeEmployeeIds: JSON.stringify(access.probeEmployeeIds.slice(0, 5)),
      });
      if (etag === null) {
        await storageCall('create Graph access', () => table.createEntity(entity), { 409: stale });
        return;
      }
      await storageCall('update Graph access', () => table.updateEntity(entity, 'Replace', { etag }), { 404: stale, 412: stale });
    },
  };
}
