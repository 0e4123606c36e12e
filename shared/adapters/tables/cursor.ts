/**
 * Opaque continuation tokens: base64url of where to resume (the last key returned).
 * Resuming "after a key" instead of replaying the service's own token lets a page
 * end anywhere — after client-side filtering, or mid server page. Pure, no I/O.
 */
import { ValidationError } from '../../errors';

const VERSION = 1;

export function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, after }), 'utf8').toString('base64url');
}

/** null for no token (first page); ValidationError for anything that is not one of ours. */
export function decodeCursor(token: string | undefined): string | null {
  if (token === undefined || token === '') return null;
  const invalid = new ValidationError([{ field: 'query.continuationToken', message: 'is not a valid continuation token' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!isCursor(parsed)) throw invalid;
  return parsed.after;
}

function isCursor(value: unknown): value is { v: number; after: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { v, after } = value as Record<string, unknown>;
  return v === VERSION && typeof after === 'string';
}
