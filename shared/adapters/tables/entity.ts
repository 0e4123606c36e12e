/**
 * Reading stored entities back into domain values. The SDK hands Int64 back as
 * bigint and DateTime as Date; the domain wants numbers and ISO strings.
 */
export type Row = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string };

export function text(row: Row, name: string): string {
  const value = row[name];
  if (value instanceof Date) return value.toISOString();
  if (value === undefined || value === null) return '';
  // Table Storage hands back only primitives here; an object would be a bug, shown as JSON rather than [object Object]
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return value.toString();
    default:
      return JSON.stringify(value) ?? '';
  }
}

export function textOrNull(row: Row, name: string): string | null {
  const value = row[name];
  return value === undefined || value === null || value === '' ? null : text(row, name);
}

export function count(row: Row, name: string): number {
  const value = row[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  return 0;
}

export function flag(row: Row, name: string, fallback: boolean): boolean {
  const value = row[name];
  return typeof value === 'boolean' ? value : fallback;
}

export function json<T>(row: Row, name: string, fallback: T): T {
  const value = row[name];
  if (typeof value !== 'string' || value === '') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export function etagOf(row: Row): string {
  return row.etag ?? '';
}

/** Removes null/undefined properties: Table Storage stores "no value" as an absent property. */
export function compact<T extends Record<string, unknown>>(entity: T): T {
  return Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== null && v !== undefined)) as T;
}
