import { odata, type TableClient } from '@azure/data-tables';
import type { Page, PageRequest } from '../../ports';
import { decodeCursor, encodeCursor } from './cursor';
import type { Row } from './entity';
import { storageCall } from './failures';

/** Upper bound of rows read per call when a client-side filter rejects most of them. */
const MAX_SCANNED_PER_CALL = 2000;
const MAX_SERVER_PAGE = 1000;

export interface ScanSpec<T> {
  table: TableClient;
  action: string;
  page: PageRequest;
  /** The OData filter resuming strictly after `after` (null: from the start; '' = whole table); build it with `odata`. */
  filter(after: string | null): string;
  select?: string[];
  /** The domain item, or null to skip the row (client-side filtering, de-duplication). */
  toItem(row: Row): T | null;
  /** The resume key of a row (what `filter(after)` resumes after). */
  cursorOf(row: Row): string;
}

/**
 * One page of `top` items, reading server pages of bounded size and stopping as soon as
 * the page is full and one more item proves there is a next page. Rows are returned by
 * the service in key order, so "resume after the last key" is exact.
 */
export async function scanPage<T>(spec: ScanSpec<T>): Promise<Page<T>> {
  const top = Math.max(1, Math.floor(spec.page.top));
  const after = decodeCursor(spec.page.continuationToken);
  const items: T[] = [];
  let lastItemCursor = '';
  let scanned = 0;
  const filter = spec.filter(after);
  const pages = spec.table
    .listEntities<Row>({ queryOptions: { ...(filter ? { filter } : {}), ...(spec.select ? { select: spec.select } : {}) } })
    .byPage({ maxPageSize: Math.min(MAX_SERVER_PAGE, Math.max(top + 1, 100)) });
  const next = () => storageCall(spec.action, () => pages.next());
  for (let result = await next(); !result.done; result = await next()) {
    for (const row of result.value) {
      scanned += 1;
      const item = spec.toItem(row);
      if (item !== null) {
        if (items.length === top) return { items, continuationToken: encodeCursor(lastItemCursor) };
        items.push(item);
        lastItemCursor = spec.cursorOf(row);
      }
      if (scanned >= MAX_SCANNED_PER_CALL) {
        // a short page is allowed: the caller follows the token
        return { items, continuationToken: encodeCursor(spec.cursorOf(row)) };
      }
    }
  }
  return { items, continuationToken: null };
}

/** Rows of one partition whose RowKey starts with `prefix`, after `after` (a RowKey) if given. */
export function rowRangeFilter(partitionKey: string, prefix: string, after: string | null, extra?: string): string {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  // both lower bounds: a token from another listing can never reach rows outside the range
  const range =
    after === null
      ? odata`PartitionKey eq ${partitionKey} and RowKey ge ${prefix} and RowKey lt ${end}`
      : odata`PartitionKey eq ${partitionKey} and RowKey ge ${prefix} and RowKey gt ${after} and RowKey lt ${end}`;
  return extra ? `${range} and ${extra}` : range;
}

/** Every row of one partition, after `after` (a RowKey) if given. */
export function partitionFilter(partitionKey: string, after: string | null): string {
  return after === null ? odata`PartitionKey eq ${partitionKey}` : odata`PartitionKey eq ${partitionKey} and RowKey gt ${after}`;
}
