import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { AuditEntry } from '../../domain/model';
import type { AuditLog } from '../../ports';
import { json, text, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey } from './limits';
import { partitionFilter, scanPage } from './scan';

/**
 * Table Audit: PartitionKey = scope (e.g. `group|{id}`), RowKey = inverted timestamp +
 * random suffix, so the service's ascending key order is newest first. Append-only.
 */
const MAX_TIME = 9_999_999_999_999;
const MAX_APPEND_ATTEMPTS = 3;

/** Newer entries get smaller keys; the suffix keeps entries of the same millisecond apart. */
export function auditRowKey(at: string, suffix = randomBytes(6).toString('hex')): string {
  const ms = Date.parse(at);
  const time = Number.isFinite(ms) ? ms : Date.now();
  return `${String(MAX_TIME - time).padStart(13, '0')}|${suffix}`;
}

function toEntry(row: Row): AuditEntry {
  return {
    at: text(row, 'at'),
    by: text(row, 'by'),
    action: text(row, 'action'),
    target: text(row, 'target'),
    from: json<unknown>(row, 'from', null),
    to: json<unknown>(row, 'to', null),
    requestId: text(row, 'requestId'),
  };
}

export function createAuditLog(table: TableClient): AuditLog {
  return {
    async append(scope, entry) {
      const base = {
        partitionKey: checkKey('scope', scope),
        at: entry.at,
        by: entry.by,
        action: entry.action,
        target: entry.target,
        from: JSON.stringify(entry.from ?? null),
        to: JSON.stringify(entry.to ?? null),
        requestId: entry.requestId,
      };
      checkEntity({ ...base, rowKey: auditRowKey(entry.at) });
      // a 409 is a suffix collision: draw another suffix, never overwrite
      for (let attempt = 1; ; attempt++) {
        const entity = { ...base, rowKey: auditRowKey(entry.at) };
        const appended = await storageCall('append audit', () => table.createEntity(entity).then(() => true), { 409: () => false });
        if (appended) return;
        if (attempt >= MAX_APPEND_ATTEMPTS) throw new Error('audit append kept colliding on random row keys');
      }
    },

    list(scope, page) {
      const partitionKey = checkKey('scope', scope);
      return scanPage<AuditEntry>({
        table,
        action: 'list audit',
        page,
        filter: (after) => partitionFilter(partitionKey, after),
        toItem: toEntry,
        cursorOf: (row) => row.rowKey ?? '',
      });
    },
  };
}
