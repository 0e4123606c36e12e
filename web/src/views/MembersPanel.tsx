import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get, groupPath, query } from '../api';
import { ConflictNotice, DangerActions, Loading, Modal, Pager, ProblemAlert, StatusBadge } from '../components';
import { plural, reasonLabel, STATUS_LABEL, STATUSES } from '../format';
import { usePaged } from '../hooks';
import type { AddMembersResult, Group, Member, Page } from '../types';
import { EmployeeSearch } from './EmployeeSearch';
import { useGuardedChange } from './groupDialogs';

const parseIds = (text: string): string[] => [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];

/** Members with status and reason; add by employee id or by search, move from another group, remove. */
export function MembersPanel({ group, tick, onChanged }: { group: Group; tick: number; onChanged: () => void }) {
  const [status, setStatus] = useState('');
  const [removing, setRemoving] = useState<Member | null>(null);
  const members = usePaged<Member>(
    (token, signal) =>
      get<Page<Member>>(`${groupPath(group.id)}/members${query({ status, top: 25, continuationToken: token })}`, signal).then((a) => a.data),
    [group.id, status],
  );
  useEffect(() => members.reload(), [tick]);

  return (
    <>
      <section class="card" aria-labelledby="members-h">
        <div class="card-head">
          <h2 id="members-h">
            Members <span class="muted heading-count">{group.memberCount}</span>
          </h2>
          <label class="field field-inline">
            <span>Status</span>
            <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
        </div>
        <AddMembers group={group} onChanged={() => (members.reload(), onChanged())} />
        <ProblemAlert error={members.error} />
        {!members.items && !members.error && <Loading what="members" />}
        {members.items && members.items.length === 0 && <p class="empty">{status ? 'No member has this status.' : 'No members yet. Add some by employee ID or search.'}</p>}
        {members.items && members.items.length > 0 && (
          <table class="table table-members">
            <thead>
              <tr>
                <th scope="col">Employee</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.items.map((m) => (
                <tr key={m.employeeId} data-employee-id={m.employeeId}>
                  <td data-label="Employee">
                    <a class="row-title" href={`#/users/${encodeURIComponent(m.employeeId)}`}>
                      {m.name || m.employeeId}
                    </a>
                    <span class="row-sub">{m.employeeId}</span>
                  </td>
                  <td data-label="Email">{m.email || '—'}</td>
                  <td data-label="Status">
                    <StatusBadge status={m.status} />
                  </td>
                  <td data-label="Reason" class="cell-reason">
                    {m.reason ? (
                      <>
                        <strong>{reasonLabel(m.reason)}</strong>
                        <span class="row-sub">{m.message}</span>
                      </>
                    ) : (
                      <span class="muted">{m.message}</span>
                    )}
                  </td>
                  <td data-label="Actions" class="actions">
                    <button type="button" class="btn btn-ghost btn-small" aria-label={`Remove ${m.name || m.employeeId}`} onClick={() => setRemoving(m)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager label="Members" page={members.page} hasNext={members.hasNext} onFirst={members.first} onPrevious={members.previous} onNext={members.next} />
      </section>
      {removing && (
        <RemoveDialog
          group={group}
          member={removing}
          onClose={() => setRemoving(null)}
          onRemoved={() => {
            setRemoving(null);
            members.reload();
            onChanged();
          }}
        />
      )}
    </>
  );
}

/**
 * Adds by employee id or by search. Every add carries the group's ETag: when someone else changed
 * the group since this page read it (412) nothing is added, and the notice says who and when.
 */
function AddMembers({ group, onChanged }: { group: Group; onChanged: () => void }) {
  const [text, setText] = useState('');
  const change = useGuardedChange(group);
  const [result, setResult] = useState<AddMembersResult | null>(null);
  const [searched, setSearched] = useState(0);

  async function add(employeeIds: string[], move: boolean) {
    setResult(null);
    const answer = await change.run(async () => {
      try {
        return (await call<AddMembersResult>('POST', `${groupPath(group.id)}/members`, { body: { employeeIds, move }, ifMatch: group.etag })).data;
      } catch (err) {
        // Every id already in another group: a 409 that still lists each one, so they can be moved.
        const results = err instanceof ApiError && err.status === 409 ? (err.problem as { results?: AddMembersResult['results'] }).results : undefined;
        if (results) return { results, added: 0, conflicts: results.length, reconciliationRequested: false };
        throw err;
      }
    });
    if (!answer) return;
    setResult(answer);
    if (answer.added > 0) {
      if (!move) setText('');
      setSearched((v) => v + 1);
      onChanged();
    }
  }

  if (change.conflict !== undefined) {
    return (
      <div class="add-members">
        <ConflictNotice
          group={change.conflict}
          onReload={() => {
            change.reset();
            onChanged();
          }}
        />
      </div>
    );
  }
  const conflicts = result?.results.filter((r) => r.outcome === 'conflict') ?? [];
  return (
    <div class="add-members">
      <form
        class="toolbar"
        aria-label="Add members"
        onSubmit={(e) => {
          e.preventDefault();
          const ids = parseIds(text);
          if (ids.length) void add(ids, false);
        }}
      >
        <label class="field field-grow">
          <span>Add by employee ID</span>
          <input name="employeeIds" placeholder="E0010, E0011" aria-describedby="add-hint" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <small id="add-hint" class="hint">
            One or more Vantagepoint employee IDs, separated by commas or spaces.
          </small>
        </label>
        <button type="submit" class="btn btn-primary" disabled={change.busy}>
          Add members
        </button>
      </form>
      <EmployeeSearch
        groupId={group.id}
        version={searched}
        action={(e, label) =>
          e.groupId === group.id ? (
            <span class="muted">Already in this group</span>
          ) : e.groupId ? (
            <button
              type="button"
              class="btn btn-secondary btn-small"
              disabled={change.busy}
              aria-label={`Move from ${e.groupName ?? e.groupId}: ${label}`}
              onClick={() => void add([e.employeeId], true)}
            >
              Move from {e.groupName ?? e.groupId}
            </button>
          ) : (
            <button type="button" class="btn btn-primary btn-small" disabled={change.busy} aria-label={`Add ${label}`} onClick={() => void add([e.employeeId], false)}>
              Add
            </button>
          )
        }
      />
      <ProblemAlert error={change.error} />
      {result && (
        <div class="results" role="status">
          <p>
            {plural(result.results.filter((r) => r.outcome === 'added').length, 'member')} added
            {result.results.some((r) => r.outcome === 'moved') && `, ${result.results.filter((r) => r.outcome === 'moved').length} moved`}
            {conflicts.length > 0 && `, ${conflicts.length} in another group`}.
          </p>
          <ul class="result-list">
            {result.results.map((r) => (
              <li key={r.employeeId} class={`result result-${r.outcome}`}>
                <strong>{r.employeeId}</strong>: {r.outcome === 'moved' && r.fromGroupId ? `moved from ${r.fromGroupId}. ` : ''}
                {r.outcome === 'conflict' && r.otherGroupId ? `already in group ${r.otherGroupId}. ` : ''}
                {r.message}
                {r.outcome === 'conflict' && (
                  <button type="button" class="btn btn-secondary btn-small" disabled={change.busy} onClick={() => add([r.employeeId], true)}>
                    Move to {group.name}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function RemoveDialog({ group, member, onClose, onRemoved }: { group: Group; member: Member; onClose: () => void; onRemoved: () => void }) {
  const change = useGuardedChange(group);
  async function confirm() {
    const done = await change.run(() => call('DELETE', `${groupPath(group.id)}/members/${encodeURIComponent(member.employeeId)}`, { ifMatch: group.etag }));
    if (done) onRemoved();
  }
  return (
    <Modal title={`Remove ${member.name || member.employeeId}?`} onClose={onClose}>
      {change.conflict !== undefined ? <ConflictNotice group={change.conflict} onReload={onRemoved} /> : null}
      <p hidden={change.conflict !== undefined}>
        {member.name || member.employeeId} leaves {group.name}
        {group.sync === 'enabled' ? ' and stops syncing; their subscriptions are removed.' : '.'}
      </p>
      <ProblemAlert error={change.error} />
      {change.conflict === undefined && (
        <DangerActions label="Remove member" busy={change.busy} onCancel={onClose} onConfirm={confirm} />
      )}
    </Modal>
  );
}
