import type { Storage } from '../../adapters/tables';
import type { DataSyncState, SyncIssue } from '../../ports';

/** The why view's data step: what the data sync did for this user lately. */
export interface DataSyncView {
  created: number;
  updated: number;
  deleted: number;
  skipped: number;
  failed: number;
  lastItem: DataSyncState['lastItem'];
  lastError: DataSyncState['lastError'];
  /** when the last calendar catch-up (calendarView/delta round) completed */
  lastCatchUpAt: string | null;
  /** open sync issues (failures with a reason), newest first, at most 20 */
  issues: Array<Pick<SyncIssue, 'eventId' | 'code' | 'message' | 'at'>>;
}

export async function loadDataSyncView(storage: Pick<Storage, 'dataSyncState' | 'syncIssues'>, employeeId: string): Promise<{ view: DataSyncView; step: { name: string; ok: boolean; detail: string } }> {
  const [state, issues] = await Promise.all([storage.dataSyncState.get(employeeId), storage.syncIssues.listForUser(employeeId)]);
  const view: DataSyncView = {
    created: state?.created ?? 0,
    updated: state?.updated ?? 0,
    deleted: state?.deleted ?? 0,
    skipped: state?.skipped ?? 0,
    failed: state?.failed ?? 0,
    lastItem: state?.lastItem ?? null,
    lastError: state?.lastError ?? null,
    lastCatchUpAt: state?.delta?.completedAt ?? null,
    issues: issues
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, 20)
      .map(({ eventId, code, message, at }) => ({ eventId, code, message, at })),
  };
  const counts = `created ${view.created}, updated ${view.updated}, deleted ${view.deleted}, skipped ${view.skipped}, failed ${view.failed}`;
  const last = view.lastItem ? `Last item ${view.lastItem.outcome} at ${view.lastItem.at}` : 'No meeting synced yet';
  const problem = issues.length > 0 ? `; ${issues.length} sync issue(s), latest: ${view.issues[0]?.code} — ${view.issues[0]?.message}` : '';
  return { view, step: { name: 'data', ok: issues.length === 0, detail: `${last}; ${counts}${problem}.` } };
}
