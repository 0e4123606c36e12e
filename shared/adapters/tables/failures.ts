import { AppError, ServiceUnavailableError } from '../../errors';
import { singleFlight } from '../../util/singleFlight';

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

/** The storage service's error code (`TableNotFound`, `QueueNotFound`, ...), when it gave one. */
function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, details } = err as { code?: unknown; details?: { errorCode?: unknown } };
  if (typeof code === 'string') return code;
  return typeof details?.errorCode === 'string' ? details.errorCode : undefined;
}

/** The table or queue itself is gone (storage restarted empty, deleted by mistake): not the entity asked for. */
export function isMissingResource(err: unknown): boolean {
  const code = codeOf(err);
  return statusOf(err) === 404 && (code === 'TableNotFound' || code === 'QueueNotFound');
}

/**
 * Whoever can recreate the tables and queues (createStorage registers itself). Remembering
 * "created" once per process is not enough: storage can come back empty while we run.
 */
const recreators = new Set<() => Promise<void>>();

export function onMissingResource(recreate: () => Promise<void>): void {
  recreators.add(recreate);
}

/** One recreation at a time however many calls notice the loss at once. */
const recreateAll = singleFlight(async () => {
  await Promise.all([...recreators].map((r) => r()));
});

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
    // Checked before `on`: a 404 for a missing table is not "no such entity". Recreated, then the call is tried once more.
    if (isMissingResource(err) && recreators.size > 0) {
      try {
        await recreateAll();
      } catch {
        throw new ServiceUnavailableError('storage', `Storage lost its tables or queues (${action}) and they could not be recreated yet; retry shortly.`);
      }
      return settle(action, fn, on);
    }
    return failed(action, err, on);
  }
}

/** The call once more after a recreation; a table still missing now is an outage to retry, not a server fault. */
async function settle<T>(action: string, fn: () => Promise<T>, on: StatusHandlers<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isMissingResource(err)) throw new ServiceUnavailableError('storage', `Storage is being recreated (${action}); retry shortly.`);
    return failed(action, err, on);
  }
}

function failed<T>(action: string, err: unknown, on: StatusHandlers<T>): T {
  const status = statusOf(err);
  const handler = status === undefined || isMissingResource(err) ? undefined : on[status];
  if (handler) return handler();
  if (isUnavailable(err) || isMissingResource(err)) {
    const detail = status === undefined ? 'unreachable' : `answered ${status}`;
    throw new ServiceUnavailableError('storage', `Storage is unavailable (${action}: ${detail}); retry shortly.`);
  }
  throw err;
}
