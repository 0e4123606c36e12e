import { useEffect, useState } from 'preact/hooks';
import { call, get, groupPath, query } from '../api';
import { Loading, Pager, ProblemAlert, StatusBadge } from '../components';
import { reasonLabel, STATUS_LABEL } from '../format';
import { usePaged } from '../hooks';
import type { Group, Member, Page, SyncStatus } from '../types';
import { WhyView } from './WhyView';

/** Not configured and suspended members, each with the why view and Force; suspended ones also with the group's Force. */
export function SyncIssuesPanel({ group, tick, onChanged }: { group: Group; tick: number; onChanged: () => void }) {
  if (group.sync === 'disabled') {
    return (
      <section class="card">
        <h2>Sync Issues</h2>
        <p>
          Synchronization is disabled for this group, so every member is Disabled and nobody has a sync issue. Enable Synchronization shows,
          before anything changes, which members would not be configured and why.
        </p>
      </section>
    );
  }
  return (
    <>
      <IssueList group={group} status="suspended" tick={tick} onChanged={onChanged} intro="Suspended after repeated or permanent errors: fix the cause, then Force sync." />
      <IssueList group={group} status="not_configured" tick={tick} onChanged={onChanged} intro="A member prerequisite fails: fix the record in Vantagepoint; the next pass picks it up." />
    </>
  );
}

function IssueList({ group, status, tick, onChanged, intro }: { group: Group; status: SyncStatus; tick: number; onChanged: () => void; intro: string }) {
  const [open, setOpen] = useState<string | null>(null);
  const members = usePaged<Member>(
    (token, signal) =>
      get<Page<Member>>(`${groupPath(group.id)}/members${query({ status, top: 20, continuationToken: token })}`, signal).then((a) => a.data),
    [group.id, status],
  );
  useEffect(() => members.reload(), [tick]);
  const headingId = `issues-${status}`;
  const [forcing, setForcing] = useState(false);
  const [forced, setForced] = useState('');
  const [forceError, setForceError] = useState<unknown>(null);
  // The group's Force clears every suspension in one request (POST .../sync/force): after a
  // tenant-wide fix (an access policy, a permission) nobody has to force each member in turn.
  async function forceGroup() {
    setForcing(true);
    setForceError(null);
    setForced('');
    try {
      await call('POST', `${groupPath(group.id)}/sync/force`);
      setForced('Sync forced for every suspended member: reconciling now.');
      members.reload();
      onChanged();
    } catch (err) {
      setForceError(err);
    } finally {
      setForcing(false);
    }
  }
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{STATUS_LABEL[status]}</h2>
      <p class="muted">{intro}</p>
      <ProblemAlert error={members.error} />
      <ProblemAlert error={forceError} />
      {status === 'suspended' && members.items && members.items.length > 0 && (
        <div class="button-row">
          <button type="button" class="btn btn-secondary" disabled={forcing} onClick={() => void forceGroup()}>
            Force sync for every suspended member
          </button>
        </div>
      )}
      {forced && (
        <p class="muted" role="status">
          {forced}
        </p>
      )}
      {!members.items && !members.error && <Loading what="members" />}
      {members.items && members.items.length === 0 && <p class="empty">None.</p>}
      {members.items && members.items.length > 0 && (
        <ul class="issue-list">
          {members.items.map((m) => (
            <li key={m.employeeId} class="issue">
              <div class="issue-row">
                <div>
                  <strong>{m.name || m.employeeId}</strong> <span class="row-sub-inline">{m.employeeId}</span>
                  <div>
                    <StatusBadge status={m.status} /> {m.reason ? <strong>{reasonLabel(m.reason)}</strong> : null} <span class="muted">{m.message}</span>
                  </div>
                </div>
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  aria-expanded={open === m.employeeId}
                  onClick={() => setOpen(open === m.employeeId ? null : m.employeeId)}
                >
                  {open === m.employeeId ? 'Hide why' : 'Why?'}
                </button>
              </div>
              {open === m.employeeId && <WhyView employeeId={m.employeeId} compact onChanged={onChanged} />}
            </li>
          ))}
        </ul>
      )}
      <Pager label={STATUS_LABEL[status]} page={members.page} hasNext={members.hasNext} onFirst={members.first} onPrevious={members.previous} onNext={members.next} />
    </section>
  );
}
