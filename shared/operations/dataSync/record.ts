import { ConflictError, PreconditionFailedError } from '../../errors';
import type { DataSyncState } from '../../ports';
import type { DataSyncContext, DataSyncDeps, ItemOutcome } from './context';

type StateBody = Omit<DataSyncState, 'etag'>;

export function emptyDataSyncState(employeeId: string, now: Date): StateBody {
  return {
    employeeId,
    created: 0,
    updated: 0,
    deleted: 0,
    skipped: 0,
    failed: 0,
    lastItem: null,
    lastError: null,
    delta: null,
    catchUpRequestedAt: null,
    updatedAt: now.toISOString(),
  };
}

/** Read-modify-write of a user's data-sync state under its ETag, merged against fresh state on a race. */
export async function updateDataSyncState(deps: Pick<DataSyncDeps, 'storage'>, employeeId: string, now: Date, change: (s: StateBody) => StateBody): Promise<DataSyncState> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.storage.dataSyncState.get(employeeId);
    const { etag: _etag, ...before } = current ?? { ...emptyDataSyncState(employeeId, now), etag: null };
    try {
      return await deps.storage.dataSyncState.save({ ...change(before), updatedAt: now.toISOString() }, current?.etag ?? null);
    } catch (err) {
      const raced = err instanceof PreconditionFailedError || err instanceof ConflictError;
      if (!raced || attempt >= 20) throw err;
    }
  }
}

const COUNTED: Partial<Record<ItemOutcome, 'created' | 'updated' | 'deleted' | 'skipped' | 'failed'>> = {
  created: 'created',
  updated: 'updated',
  deleted: 'deleted',
  skipped: 'skipped',
  failed: 'failed',
};

export interface ItemReport {
  employeeId: string;
  eventId: string | null;
  outcome: ItemOutcome;
  /** why it was skipped or failed (a domain code) */
  reason?: string | undefined;
  message?: string | undefined;
  activityId?: string | null | undefined;
  /** a failure with a reason the sync cannot get past alone: becomes a sync-issue row */
  issue?: boolean | undefined;
  resource?: string | undefined;
}

/**
 * The bookkeeping after each item: one structured log line (with the notification's request id),
 * the user's counters and last outcome (why view), and the sync-issue row opened or resolved.
 * "unchanged" and "not_syncing" write nothing but the log line.
 */
export async function recordItem(deps: Pick<DataSyncDeps, 'storage'>, report: ItemReport, ctx: DataSyncContext): Promise<void> {
  const now = ctx.now();
  ctx.log('datasync.item', {
    requestId: ctx.requestId,
    employeeId: report.employeeId,
    resource: report.resource ?? 'events',
    eventId: report.eventId,
    outcome: report.outcome,
    ...(report.reason ? { reason: report.reason } : {}),
    ...(report.activityId ? { activityId: report.activityId } : {}),
  });
  const counter = COUNTED[report.outcome];
  if (!counter) return;
  const state = await updateDataSyncState(deps, report.employeeId, now, (s) => ({
    ...s,
    [counter]: s[counter] + 1,
    lastItem: { eventId: report.eventId ?? '', outcome: report.outcome, at: now.toISOString(), requestId: ctx.requestId },
    ...(report.outcome === 'failed' ? { lastError: { code: report.reason ?? 'FAILED', message: report.message ?? '', at: now.toISOString() } } : {}),
  }));
  if (report.outcome === 'failed' && report.issue) {
    await deps.storage.syncIssues.put({
      employeeId: report.employeeId,
      eventId: report.eventId,
      code: report.reason ?? 'FAILED',
      message: report.message ?? '',
      at: now.toISOString(),
      requestId: ctx.requestId,
    });
  } else if (report.outcome !== 'failed' && report.eventId !== null && state.failed > 0) {
    // only a user who ever failed can have an issue row to resolve: saves a call per item for everyone else
    await deps.storage.syncIssues.resolve(report.employeeId, report.eventId);
  }
}
