/**
 * Table Storage rules checked in code before any call: Azurite enforces neither the
 * entity size nor the property limits, so without these a write that works locally
 * would fail in Azure. Pure functions, no I/O.
 */
import { ValidationError } from '../../errors';

/** Keys are stored as UTF-16: 1 KiB is 512 code units. */
export const MAX_KEY_BYTES = 1024;
export const MAX_ENTITY_BYTES = 1024 * 1024;
export const MAX_CUSTOM_PROPERTIES = 252;
/** 64 KiB of UTF-16. */
export const MAX_STRING_CHARS = 32 * 1024;
/** A transaction: same partition, at most 100 operations. */
export const MAX_TRANSACTION_OPERATIONS = 100;

const FORBIDDEN_KEY_CHARACTERS = new Set(['/', '\\', '#', '?']);

function isForbiddenKeyCharacter(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return FORBIDDEN_KEY_CHARACTERS.has(ch) || code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}
const SYSTEM_PROPERTIES = new Set(['partitionKey', 'rowKey', 'timestamp', 'etag', 'odata.etag']);

/**
 * Returns `value` when it can be (part of) a PartitionKey/RowKey; otherwise throws a
 * ValidationError naming the domain field it came from. `prefix` is the row-type tag
 * the store puts in front, counted against the size limit.
 */
export function checkKey(field: string, value: unknown, prefix = ''): string {
  const problem = keyProblem(value, prefix);
  if (problem) throw new ValidationError([{ field, message: problem }]);
  return `${prefix}${value as string}`;
}

function keyProblem(value: unknown, prefix: string): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if ([...value].some(isForbiddenKeyCharacter)) return 'must not contain / \\ # ? or control characters';
  if ((prefix.length + value.length) * 2 > MAX_KEY_BYTES) return `is too long (a storage key is at most ${MAX_KEY_BYTES} bytes)`;
  return null;
}

/** Size of one property as the service counts it (8 bytes overhead + UTF-16 name + value). */
function propertySize(name: string, value: unknown): number {
  const overhead = 8 + name.length * 2;
  if (typeof value === 'string') return overhead + 4 + value.length * 2;
  if (typeof value === 'boolean') return overhead + 1;
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof Date) return overhead + 8;
  if (value instanceof Uint8Array) return overhead + 4 + value.byteLength;
  return overhead + 4 + JSON.stringify(value ?? null).length * 2;
}

/** The stored size of an entity, by the formula in the Table service documentation. */
export function entitySize(entity: { partitionKey: string; rowKey: string } & Record<string, unknown>): number {
  let size = 4 + (entity.partitionKey.length + entity.rowKey.length) * 2;
  for (const [name, value] of Object.entries(entity)) {
    if (!SYSTEM_PROPERTIES.has(name) && value !== undefined && value !== null) size += propertySize(name, value);
  }
  return size;
}

/** Throws a ValidationError naming the property when the entity breaks a service limit. */
export function checkEntity(entity: { partitionKey: string; rowKey: string } & Record<string, unknown>): void {
  const custom = Object.keys(entity).filter((name) => !SYSTEM_PROPERTIES.has(name) && entity[name] !== undefined);
  if (custom.length > MAX_CUSTOM_PROPERTIES) {
    throw new ValidationError(
      [{ field: 'entity', message: `has ${custom.length} properties; Table Storage allows ${MAX_CUSTOM_PROPERTIES}` }],
      'The record has too many properties to store.',
    );
  }
  for (const name of custom) {
    const value = entity[name];
    if (typeof value === 'string' && value.length > MAX_STRING_CHARS) {
      throw new ValidationError(
        [{ field: name, message: `is ${value.length} characters; Table Storage stores at most ${MAX_STRING_CHARS}` }],
        'A value is too long to store.',
      );
    }
  }
  const size = entitySize(entity);
  if (size > MAX_ENTITY_BYTES) {
    throw new ValidationError(
      [{ field: 'entity', message: `is ${size} bytes; Table Storage stores at most ${MAX_ENTITY_BYTES}` }],
      'The record is too large to store.',
    );
  }
}

/** Case- and form-insensitive comparison key (group names are unique ignoring case): full Unicode case folding. */
export { foldCase } from '../../domain/names';

/** Splits into chunks of at most `size` (transactions are bounded). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
