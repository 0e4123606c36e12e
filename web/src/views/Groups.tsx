import { useState } from 'preact/hooks';
import { get, query } from '../api';
import { Counts, Loading, Pager, ProblemAlert, SwitchBadge } from '../components';
import { isSettling, MAILBOX_LABEL, SETTLE_POLL_MS } from '../format';
import { useDebounced, useInterval, usePaged } from '../hooks';
import type { Group, Page } from '../types';
import { DeleteDialog, GroupForm, ToggleDialog } from './groupDialogs';

type Dialog = { kind: 'toggle' | 'edit' | 'delete'; group: Group } | { kind: 'create' } | null;

/** The Groups grid of Deltek's help topic: filter, refresh, and each row's Enable/Disable Synchronization. */
export function Groups() {
  const [filter, setFilter] = useState('');
  const [sync, setSync] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [announcement, setAnnouncement] = useState('');
  const applied = useDebounced(filter.trim(), 250);
  const groups = usePaged<Group>(
    (token, signal) => get<Page<Group>>(`groups${query({ filter: applied, sync, top: 20, continuationToken: token })}`, signal).then((a) => a.data),
    [applied, sync],
  );
  const settling = groups.items?.some(isSettling) ?? false;
  useInterval(groups.reload, settling ? SETTLE_POLL_MS : null);

  const done = (message: string) => {
    setDialog(null);
    setAnnouncement(message);
    groups.reload();
  };

  return (
    <>
      <div class="page-head">
        <h1>Groups</h1>
        <button type="button" class="btn btn-primary" onClick={() => setDialog({ kind: 'create' })}>
          New group
        </button>
      </div>
      <section class="card">
        <form class="toolbar" role="search" aria-label="Filter groups" onSubmit={(e) => (e.preventDefault(), groups.first())}>
          <label class="field field-inline">
            <span>Filter by</span>
            <input type="search" name="filter" placeholder="Name or External ID" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          </label>
          <label class="field field-inline">
            <span>Synchronization</span>
            <select name="sync" value={sync} onChange={(e) => setSync(e.currentTarget.value)}>
              <option value="">All</option>
              <option value="enabled">Enabled</option>
              <option value="disabled">Disabled</option>
            </select>
          </label>
          <button type="button" class="btn btn-secondary" onClick={groups.reload}>
            Refresh
          </button>
        </form>
        <p class="visually-hidden" role="status">
          {announcement}
          {settling ? ' Updating member statuses…' : ''}
        </p>
        <ProblemAlert error={groups.error} />
        {!groups.items && !groups.error && <Loading what="groups" />}
        {groups.items && groups.items.length === 0 && <p class="empty">{applied || sync ? 'No group matches the filter.' : 'No groups yet.'}</p>}
        {groups.items && groups.items.length > 0 && (
          <table class="table table-groups">
            <caption class="visually-hidden">Groups</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Mailbox Access Type</th>
                <th scope="col">Synchronization Status</th>
                <th scope="col">Members</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {groups.items.map((g) => (
                <tr key={g.id} data-group-id={g.id}>
                  <td data-label="Name">
                    <a class="row-title" href={`#/groups/${encodeURIComponent(g.id)}/users`}>
                      {g.name}
                    </a>
                    <span class="row-sub">External ID: {g.id}</span>
                  </td>
                  <td data-label="Mailbox Access Type">{MAILBOX_LABEL[g.mailboxAccess] ?? g.mailboxAccess}</td>
                  <td data-label="Synchronization Status">
                    <SwitchBadge sync={g.sync} />
                    {g.hold && (
                      <a class="badge badge-held" href={`#/groups/${encodeURIComponent(g.id)}/users`}>
                        Held: {g.hold.count} removals
                      </a>
                    )}
                    {isSettling(g) && <span class="settling">Updating…</span>}
                  </td>
                  <td data-label="Members">
                    <Counts counts={g.counts} />
                  </td>
                  <td data-label="Actions" class="actions">
                    <button
                      type="button"
                      class={g.sync === 'enabled' ? 'btn btn-secondary btn-small' : 'btn btn-primary btn-small'}
                      aria-label={`${g.sync === 'enabled' ? 'Disable' : 'Enable'} Synchronization for ${g.name}`}
                      onClick={() => setDialog({ kind: 'toggle', group: g })}
                    >
                      {g.sync === 'enabled' ? 'Disable Synchronization' : 'Enable Synchronization'}
                    </button>
                    <button type="button" class="btn btn-ghost btn-small" aria-label={`Edit ${g.name}`} onClick={() => setDialog({ kind: 'edit', group: g })}>
                      Edit
                    </button>
                    <button type="button" class="btn btn-ghost btn-small" aria-label={`Delete ${g.name}`} onClick={() => setDialog({ kind: 'delete', group: g })}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager label="Groups" page={groups.page} hasNext={groups.hasNext} onFirst={groups.first} onPrevious={groups.previous} onNext={groups.next} />
      </section>
      {dialog?.kind === 'toggle' && (
        <ToggleDialog
          group={dialog.group}
          onClose={() => setDialog(null)}
          onDone={(g) => done(`${g.name}: synchronization ${g.sync}.`)}
        />
      )}
      {dialog?.kind === 'create' && <GroupForm group={null} onClose={() => setDialog(null)} onSaved={(g) => done(`Group ${g.name} created.`)} />}
      {dialog?.kind === 'edit' && <GroupForm group={dialog.group} onClose={() => setDialog(null)} onSaved={(g) => done(`Group ${g.name} saved.`)} />}
      {dialog?.kind === 'delete' && (
        <DeleteDialog group={dialog.group} onClose={() => setDialog(null)} onDeleted={(g) => done(g ? `${g.name} was reloaded.` : `Group ${dialog.group.name} deleted.`)} />
      )}
    </>
  );
}
