import { odata, type TableClient } from '@azure/data-tables';
import type { WriterRegistry } from '../graph/share';
import { text, type Row } from './entity';
import { storageCall } from './failures';
import { checkKey } from './limits';

/** `writers` share Graph's subscription write limit; `listers` its subscription list limit. */
export type GraphBudget = 'writers' | 'listers';
/** Rows of instances gone this long are removed while counting, so the partition stays small. */
const FORGET_AFTER_MS = 60 * 60_000;

/** Table GraphWriters: one row per instance using a Graph budget (partition = the budget), `{until}` renewed while it does. */
export function createWriterRegistry(table: TableClient, PARTITION: GraphBudget = 'writers'): WriterRegistry {
  return {
    async beat(instanceId, until, now) {
      const entity = { partitionKey: PARTITION, rowKey: checkKey('instanceId', instanceId), until: until.toISOString() };
      await storageCall('announce Graph writer', () => table.upsertEntity(entity, 'Replace'));
      let live = 0;
      const stale: string[] = [];
      const rows = table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}`, select: ['RowKey', 'until'] } });
      for await (const row of rows) {
        const expires = Date.parse(text(row, 'until'));
        if (expires > now.getTime()) live++;
        else if (expires < now.getTime() - FORGET_AFTER_MS && row.rowKey) stale.push(row.rowKey);
      }
      await Promise.all(stale.map((rowKey) => table.deleteEntity(PARTITION, rowKey).catch(() => undefined)));
      return Math.max(1, live);
    },
  };
}
