import { EMULATOR_MAX_PAGE_SIZE } from '../../../shared/adapters/vantagepoint/wire';

/**
 * Paging and field selection as Deltek's API reference describes them ("Pagination"):
 * `page` (1-based) with `pageSize`, or `offset` (0-based) with `limit`. Deltek documents no
 * maximum; the emulator caps every page at 100 without saying so, so a client that trusts the
 * size it asked for misses records.
 */
export class ListingError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

function integer(query: URLSearchParams, name: string, min: number): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new ListingError(`${name} must be an integer of at least ${min}.`);
  return value;
}

export function pageOf<T>(items: T[], query: URLSearchParams): T[] {
  const size = Math.min(integer(query, 'pageSize', 1) ?? integer(query, 'limit', 1) ?? EMULATOR_MAX_PAGE_SIZE, EMULATOR_MAX_PAGE_SIZE);
  const page = integer(query, 'page', 1);
  const offset = page !== undefined ? (page - 1) * size : (integer(query, 'offset', 0) ?? 0);
  return items.slice(offset, offset + size);
}

/** `fieldFilter=A,B`: only those fields of each record (names as Deltek spells them, matched ignoring case). */
export function selectFields<T extends object>(record: T, query: URLSearchParams): Partial<T> {
  const filter = query.get('fieldFilter');
  if (!filter) return record;
  const wanted = new Set(filter.split(',').map((f) => f.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(record).filter(([key]) => wanted.has(key.toLowerCase()))) as Partial<T>;
}
