import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { SyncIssue, SyncIssueStore } from '../../ports';
import { text, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey } from './limits';

/**
 * Table SyncIssues: PartitionKey = employeeId, RowKey = "e-{sha256(eventId)}" for an event's issue or
 * "user" for one about the user as a whole (e.g. an unknown activity type). A row exists only while
 * the issue is open: the next success for that event removes it.
 */
const USER_ROW = 'user';

function rowKeyOf(eventId: string | null): string {
  return eventId === null ? USER_ROW : `e-${createHash('sha256').update(eventId, 'utf8').digest('hex')}`;
}

function toIssue(row: Row): SyncIssue {
  return {
    employeeId: row.partitionKey ?? '',
    eventId: textOrNull(row, 'eventId'),
    code: text(row, 'code'),
    message: text(row, 'message'),
    at: text(row, 'at'),
    requestId: text(row, 'requestId'),
  };
}

export function createSyncIssueStore(table: TableClient): SyncIssueStore {
  const list = async (filter: string | undefined, select?: string[]): Promise<Row[]> => {
    const rows: Row[] = [];
    const pages = table.listEntities<Row>({ queryOptions: { ...(filter ? { filter } : {}), ...(select ? { select } : {}) } }).byPage({ maxPageSize: 1000 });
    const next = () => storageCall('list sync issues', () => pages.next());
    for (let page = await next(); !page.done; page = await next()) rows.push(...page.value);
    return rows;
  };
  return {
    async put(issue) {
      const entity = {
        partitionKey: checkKey('employeeId', issue.employeeId),
        rowKey: rowKeyOf(issue.eventId),
        ...(issue.eventId === null ? {} : { eventId: issue.eventId }),
        code: issue.code,
        message: issue.message.slice(0, 2000),
        at: issue.at,
        requestId: issue.requestId,
      };
      checkEntity(entity);
      // last writer wins: an issue row is a report, not a counter
      await storageCall('write sync issue', () => table.upsertEntity(entity, 'Replace').then(() => undefined));
    },
    async resolve(employeeId, eventId) {
      await storageCall('resolve sync issue', () => table.deleteEntity(checkKey('employeeId', employeeId), rowKeyOf(eventId)).then(() => undefined), {
        404: () => undefined,
      });
    },
    async listForUser(employeeId) {
      return (await list(odata`PartitionKey eq ${checkKey('employeeId', employeeId)}`)).map(toIssue);
    },
    async count() {
      const rows = await list(undefined, ['PartitionKey']);
      return { issues: rows.length, users: new Set(rows.map((r) => r.partitionKey)).size };
    },
    async countFor(employeeIds) {
      // One range query over the page's keys (members come in key order), not one query per member.
      const wanted = new Set(employeeIds.map((id) => checkKey('employeeId', id)));
      const counts = new Map<string, number>();
      if (wanted.size === 0) return counts;
      const sorted = [...wanted].sort();
      const rows = await list(odata`PartitionKey ge ${sorted[0] as string} and PartitionKey le ${sorted[sorted.length - 1] as string}`, ['PartitionKey']);
      for (const row of rows) {
        const id = row.partitionKey ?? '';
        if (wanted.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
  };
}
