import { useEffect } from 'preact/hooks';
import { get, groupPath, query } from '../api';
import { Loading, Pager, ProblemAlert } from '../components';
import { when } from '../format';
import { usePaged } from '../hooks';
import type { HistoryEntry, Page } from '../types';

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The group's audit trail, newest first: who changed what, when, from → to. */
export function ActivityPanel({ groupId, tick }: { groupId: string; tick: number }) {
  const history = usePaged<HistoryEntry>(
    (token, signal) => get<Page<HistoryEntry>>(`${groupPath(groupId)}/history${query({ top: 20, continuationToken: token })}`, signal).then((a) => a.data),
    [groupId],
  );
  useEffect(() => history.reload(), [tick]);
  return (
    <section class="card" aria-labelledby="activity-h">
      <h2 id="activity-h">Activity</h2>
      <ProblemAlert error={history.error} />
      {!history.items && !history.error && <Loading what="the history" />}
      {history.items && history.items.length === 0 && <p class="empty">No activity yet.</p>}
      {history.items && history.items.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </tr>
          </thead>
          <tbody>
            {history.items.map((h) => (
              <tr key={`${h.at}-${h.requestId}-${h.action}`}>
                <td data-label="When">{when(h.at)}</td>
                <td data-label="Who">{h.by}</td>
                <td data-label="What">{h.action}</td>
                <td data-label="From" class="cell-value">
                  {show(h.from)}
                </td>
                <td data-label="To" class="cell-value">
                  {show(h.to)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Activity" page={history.page} hasNext={history.hasNext} onFirst={history.first} onPrevious={history.previous} onNext={history.next} />
    </section>
  );
}
