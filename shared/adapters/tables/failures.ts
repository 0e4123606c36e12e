import { AppError, ServiceUnavailableError } from '../../errors';

/** The HTTP status of a storage failure; undefined for network-level failures (refused, reset, timed out). */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Storage is unreachable or overloaded: the client may retry later. */
function isUnavailable(err: unknown): boolean {
  if (err instanceof AppError) return false;
  const status = statusOf(err);
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** What a status means to the caller: a value (e.g. null for 404) or a domain error (thrown). */
export type StatusHandlers<T> = Partial<Record<number, () => T>>;

/**
 * Runs one storage call. Statuses the caller gives meaning to are handled by `on`;
 * network failures, timeouts, 5xx and throttling become ServiceUnavailableError('storage');
 * anything else (a 400 means a bug here) propagates as a server fault.
 */
export async function storageCall<T>(action: string, fn: () => Promise<T>, on: StatusHandlers<T> = {}): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = statusOf(err);
    const handler = status === undefined ? undefined : on[status];
    if (handler) return handler();
    if (isUnavailable(err)) {
      const detail = status === undefined ? 'unreachable' : `answered ${status}`;
      throw new ServiceUnavailableError('storage', `Storage is unavailable (${action}: ${detail}); retry shortly.`);
    }
    throw err;
  }
}
