import type { TableClient } from '@azure/data-tables';
import type { IncidentStore } from '../../ports';
import { flag, text, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity } from './limits';

/** Table Settings, partition `connect`, row `incident|{kind}`: present while the incident lasts. */
const PARTITION = 'connect';
const rowOf = (kind: string) => `incident|${kind}`;

export function createIncidentStore(table: TableClient): IncidentStore {
  return {
    async get(kind) {
      const row = await storageCall('read incident', () => table.getEntity<Row>(PARTITION, rowOf(kind)).then((r): Row | null => r), { 404: () => null });
      return row ? { since: text(row, 'since'), detail: text(row, 'detail'), noticeQueued: flag(row, 'noticeQueued', false) } : null;
    },
    async put(kind, incident) {
      const entity = { partitionKey: PARTITION, rowKey: rowOf(kind), since: incident.since, detail: incident.detail.slice(0, 2000), noticeQueued: incident.noticeQueued };
      checkEntity(entity);
      // one writer per kind (the check that detects it): last writer wins
      await storageCall('write incident', () => table.upsertEntity(entity, 'Replace'));
    },
    async clear(kind) {
      await storageCall('clear incident', () => table.deleteEntity(PARTITION, rowOf(kind)).then(() => undefined), { 404: () => undefined });
    },
  };
}
