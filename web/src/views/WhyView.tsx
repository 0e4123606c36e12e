import { useState } from 'preact/hooks';
import { ApiError, call, get } from '../api';
import { Check, Loading, ProblemAlert, StatusBadge } from '../components';
import { when } from '../format';
import { useLoad } from '../hooks';
import type { UserSyncView } from '../types';

const userPath = (employeeId: string) => `users/${encodeURIComponent(employeeId)}/sync`;

/**
 * "Why is (or isn't) this user syncing?": every step in the order it was evaluated,
 * the subscriptions with their expiry, the last errors and the next retry; with the
 * personal switch and Force.
 */
export function WhyView({ employeeId, onChanged, compact = false }: { employeeId: string; onChanged?: () => void; compact?: boolean }) {
  const view = useLoad((signal) => get<UserSyncView>(userPath(employeeId), signal).then((a) => a.data), [employeeId]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [stale, setStale] = useState(false);

  async function act(label: string, change: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    setStale(false);
    try {
      await change();
      setNote(label);
      view.reload();
      onChanged?.();
    } catch (err) {
      // 412: someone else turned the switch since this view was read. Nothing was changed; show
      // the switch as it is now and let the administrator decide again.
      if (err instanceof ApiError && err.status === 412) {
        setNote('');
        setStale(true);
        view.reload();
      } else setError(err);
    } finally {
      setBusy(false);
    }
  }

  const v = view.data;
  if (view.error) return <ProblemAlert error={view.error} />;
  if (!v) return <Loading what={`${employeeId}'s status`} />;
  const H = compact ? 'h4' : 'h3';
  return (
    <div class="why">
      <div class="why-head">
        <StatusBadge status={v.status} />
        <span>{v.message}</span>
      </div>
      <dl class="facts">
        <dt>Group</dt>
        <dd>{v.groupId ? <a href={`#/groups/${encodeURIComponent(v.groupId)}/users`}>{v.groupId}</a> : 'None'}</dd>
        <dt>Personal switch</dt>
        <dd>{v.userEnabled ? 'On' : 'Off'}</dd>
        <dt>Next retry</dt>
        <dd>{when(v.nextRetryAt)}</dd>
      </dl>
      <H>Steps, in the order they were evaluated</H>
      <ol class="checks steps">
        {v.steps.map((s, i) => (
          <Check key={`${i}-${s.name}`} ok={s.ok}>
            <strong>{s.name}</strong> — {s.detail}
          </Check>
        ))}
      </ol>
      <H>Subscriptions</H>
      {v.subscriptions.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">Expires</th>
              <th scope="col">Last renewed</th>
            </tr>
          </thead>
          <tbody>
            {v.subscriptions.map((s) => (
              <tr key={s.id}>
                <td data-label="Resource">
                  <code>{s.resource}</code>
                </td>
                <td data-label="Expires">{when(s.expiresAt)}</td>
                <td data-label="Last renewed">{when(s.lastRenewedAt ?? s.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {v.lastErrors.length > 0 && (
        <>
          <H>Last errors</H>
          <ul class="errors-list">
            {v.lastErrors.map((e, i) => (
              <li key={i}>
                {when(e.at)} · <code>{e.resource}</code> · <strong>{e.code}</strong>: {e.message}
              </li>
            ))}
          </ul>
        </>
      )}
      <ProblemAlert error={error} />
      {stale && (
        <div class="alert alert-warning" role="alert">
          <div class="alert-body">
            <strong class="alert-title">Changed by someone else, reloaded</strong>
            <p>
              Another administrator changed {employeeId}'s personal switch after this page read it. Your change was not applied; the switch
              is shown as it is now ({v.userEnabled ? 'on' : 'off'}).
            </p>
          </div>
        </div>
      )}
      {note && (
        <p class="muted" role="status">
          {note}
        </p>
      )}
      <div class="button-row">
        <button
          type="button"
          class="btn btn-secondary"
          disabled={busy}
          onClick={() => act(`Personal switch turned ${v.userEnabled ? 'off' : 'on'}.`, () => call('PUT', userPath(employeeId), { body: { enabled: !v.userEnabled }, ifMatch: v.etag }))}
        >
          {v.userEnabled ? 'Turn personal sync off' : 'Turn personal sync on'}
        </button>
        <button type="button" class="btn btn-secondary" disabled={busy} onClick={() => act('Sync forced: reconciling now.', () => call('POST', `${userPath(employeeId)}/force`))}>
          Force sync
        </button>
      </div>
    </div>
  );
}
