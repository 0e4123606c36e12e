import { useState } from 'preact/hooks';
import { get, groupPath } from '../api';
import { Counts, Loading, ProblemAlert, SwitchBadge } from '../components';
import { isSettling, MAILBOX_LABEL, SETTLE_POLL_MS, when } from '../format';
import { useInterval, useLoad } from '../hooks';
import type { Group } from '../types';
import { ActivityPanel } from './ActivityPanel';
import { GroupForm, HoldNotice, ToggleDialog } from './groupDialogs';
import { MembersPanel } from './MembersPanel';
import { SyncIssuesPanel } from './SyncIssuesPanel';

const SUBTABS = [
  { id: 'users', label: 'Users' },
  { id: 'issues', label: 'Sync Issues' },
  { id: 'activity', label: 'Activity' },
  { id: 'details', label: 'Details' },
] as const;

/** A group's page: header with its switch, then Users, Sync Issues, Activity and Details. */
export function GroupPage({ groupId, sub }: { groupId: string; sub: string }) {
  const group = useLoad((signal) => get<Group>(groupPath(groupId), signal).then((a) => a.data), [groupId]);
  const [dialog, setDialog] = useState<'toggle' | 'edit' | null>(null);
  const [tick, setTick] = useState(0);
  // After "Confirm removals" the reconciler carries them out and lifts the hold: watch until it has.
  const [releasing, setReleasing] = useState(false);
  const g = group.data;
  const settling = g ? isSettling(g) || (releasing && g.hold !== null) : false;
  const refresh = () => {
    group.reload();
    setTick((t) => t + 1);
  };
  useInterval(refresh, settling ? SETTLE_POLL_MS : null);
  const base = `#/groups/${encodeURIComponent(groupId)}`;
  const active = SUBTABS.some((t) => t.id === sub) ? sub : 'users';

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href="#/groups">Groups</a> <span aria-hidden="true">›</span> <span aria-current="page">{g?.name ?? groupId}</span>
      </nav>
      <ProblemAlert error={group.error} />
      {!g && !group.error && <Loading what="the group" />}
      {g && (
        <>
          <div class="page-head">
            <div>
              <h1>{g.name}</h1>
              <p class="row-sub">
                External ID: {g.id} · {MAILBOX_LABEL[g.mailboxAccess] ?? g.mailboxAccess}
              </p>
            </div>
            <div class="button-row">
              <button type="button" class="btn btn-ghost" onClick={refresh}>
                Refresh
              </button>
              <button type="button" class="btn btn-secondary" onClick={() => setDialog('edit')}>
                Edit
              </button>
              <button type="button" class={g.sync === 'enabled' ? 'btn btn-secondary' : 'btn btn-primary'} onClick={() => setDialog('toggle')}>
                {g.sync === 'enabled' ? 'Disable Synchronization' : 'Enable Synchronization'}
              </button>
            </div>
          </div>
          <section class="card group-summary" aria-label="Synchronization summary">
            <div>
              <span class="label">Synchronization</span> <SwitchBadge sync={g.sync} />
              {settling && (
                <span class="settling" role="status">
                  Updating member statuses…
                </span>
              )}
            </div>
            <Counts counts={g.counts} />
          </section>
          <HoldNotice
            group={g}
            releasing={releasing}
            onConfirmed={() => {
              setReleasing(true);
              refresh();
            }}
          />
          <nav class="subtabs" aria-label={`${g.name} sections`}>
            <ul>
              {SUBTABS.map((t) => (
                <li key={t.id}>
                  <a href={`${base}/${t.id}`} class={active === t.id ? 'subtab subtab-active' : 'subtab'} aria-current={active === t.id ? 'page' : undefined}>
                    {t.label}
                    {t.id === 'issues' && g.counts.not_configured + g.counts.suspended > 0 && (
                      <span class="pill">{g.counts.not_configured + g.counts.suspended}</span>
                    )}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {active === 'users' && <MembersPanel group={g} tick={tick} onChanged={refresh} />}
          {active === 'issues' && <SyncIssuesPanel group={g} tick={tick} onChanged={refresh} />}
          {active === 'activity' && <ActivityPanel groupId={g.id} tick={tick} />}
          {active === 'details' && (
            <section class="card">
              <h2>Details</h2>
              <dl class="facts">
                <dt>Name</dt>
                <dd>{g.name}</dd>
                <dt>External ID</dt>
                <dd>{g.id}</dd>
                <dt>Description</dt>
                <dd>{g.description || '—'}</dd>
                <dt>Mailbox access type</dt>
                <dd>{MAILBOX_LABEL[g.mailboxAccess] ?? g.mailboxAccess}</dd>
                <dt>Members</dt>
                <dd>{g.memberCount}</dd>
                <dt>Created</dt>
                <dd>{when(g.createdAt)}</dd>
                <dt>Last changed</dt>
                <dd>
                  {when(g.updatedAt)} by {g.updatedBy}
                </dd>
              </dl>
              <h3>Members by status</h3>
              <Counts counts={g.counts} all />
            </section>
          )}
        </>
      )}
      {g && dialog === 'toggle' && (
        <ToggleDialog
          group={g}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            refresh();
          }}
        />
      )}
      {g && dialog === 'edit' && (
        <GroupForm
          group={g}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            refresh();
          }}
        />
      )}
    </>
  );
}
