import { useState } from 'preact/hooks';
import { ApiError, call, freshGroup, get, groupPath } from '../api';
import { Check, ConflictNotice, DangerActions, Loading, Modal, ProblemAlert } from '../components';
import { MAILBOX_LABEL, plural, reasonLabel, syncingCount, when } from '../format';
import { useLoad } from '../hooks';
import type { ConfirmRemovalsResult, Group, Preflight, ToggleResult } from '../types';

/**
 * Runs a change that carries the group's ETag. A 412 means another administrator got
 * there first: the dialog then shows who and when (from the group as it is now) and
 * offers a reload instead of retrying over their change.
 */
export function useGuardedChange(group: Pick<Group, 'id'>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<Group | null | undefined>(undefined);
  async function run<T>(change: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await change();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setConflict(await freshGroup(group.id).catch(() => null));
      else setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  /** back to editing after the page re-read the group */
  const reset = () => setConflict(undefined);
  return { busy, error, conflict, run, reset };
}

export function ToggleDialog({ group, onClose, onDone }: { group: Group; onClose: () => void; onDone: (g: Group) => void }) {
  const enabling = group.sync === 'disabled';
  const change = useGuardedChange(group);
  const preflight = useLoad(
    (signal) => (enabling ? get<Preflight>(`${groupPath(group.id)}/sync/preflight`, signal).then((a) => a.data) : Promise.resolve(null)),
    [group.id, enabling],
  );
  const title = enabling ? `Enable synchronization for ${group.name}?` : `Disable synchronization for ${group.name}?`;

  async function confirm() {
    const result = await change.run(() => call<ToggleResult>('PUT', `${groupPath(group.id)}/sync`, { body: { enabled: enabling }, ifMatch: group.etag }));
    if (result) onDone(result.data.group);
  }

  const p = preflight.data;
  const notConfigured = p ? Object.values(p.members.notConfigured).reduce((a, b) => a + b, 0) : 0;
  const stopping = syncingCount(group.counts);
  return (
    <Modal title={title} onClose={onClose} wide>
      {change.conflict !== undefined ? (
        <ConflictNotice group={change.conflict} onReload={() => (change.conflict ? onDone(change.conflict) : onClose())} />
      ) : (
        <>
          {enabling && (
            <>
              <ProblemAlert error={preflight.error} />
              {!p && !preflight.error && <Loading what="the preflight" />}
              {p && (
                <>
                  <h3>Organisation</h3>
                  <ul class="checks">
                    {p.organisation.map((c) => (
                      <Check key={c.code} ok={c.ok}>
                        <strong>{c.code.replace(/_/g, ' ')}</strong> — {c.message}
                      </Check>
                    ))}
                  </ul>
                  <h3>Members</h3>
                  <p>
                    {notConfigured === 0
                      ? `All ${plural(p.members.memberCount, 'member')} meet the prerequisites and will start syncing.`
                      : `${notConfigured} of ${plural(p.members.memberCount, 'member')} would not be configured; the others start syncing.`}
                  </p>
                  {notConfigured > 0 && (
                    <ul class="reasons" aria-label="Reasons">
                      {Object.entries(p.members.notConfigured)
                        .filter(([, n]) => n > 0)
                        .map(([reason, n]) => (
                          <li key={reason}>
                            <strong>{n}</strong> {reasonLabel(reason)}
                          </li>
                        ))}
                    </ul>
                  )}
                  {p.members.affected.length > 0 && (
                    <details class="details">
                      <summary>Who and why</summary>
                      <ul class="affected">
                        {p.members.affected.map((m) => (
                          <li key={m.employeeId}>
                            <strong>{m.name || m.employeeId}</strong> ({m.employeeId}): {m.message}
                          </li>
                        ))}
                      </ul>
                    </details>
                  )}
                  {!p.canEnable && <p class="summary summary-bad">The organisation prerequisites are not met: this group cannot be enabled yet.</p>}
                </>
              )}
            </>
          )}
          {!enabling && (
            <p>
              {stopping === 0
                ? 'Nobody in this group is syncing now.'
                : `${plural(stopping, 'person', 'people')} stop syncing.`}{' '}
              All {plural(group.memberCount, 'member')} become disabled; their change notifications are dropped from this moment and their
              subscriptions are removed.
            </p>
          )}
          <ProblemAlert error={change.error} />
          <div class="modal-actions">
            <button type="button" class="btn btn-secondary" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              class={enabling ? 'btn btn-primary' : 'btn btn-danger'}
              disabled={change.busy || (enabling && !p?.canEnable)}
              onClick={confirm}
            >
              {enabling ? 'Enable Synchronization' : 'Disable Synchronization'}
            </button>
          </div>
        </>
      )}
    </Modal>
  );
}

/** Create (External ID chosen once) or edit (name and description only). */
export function GroupForm({ group, onClose, onSaved }: { group: Group | null; onClose: () => void; onSaved: (g: Group) => void }) {
  const [id, setId] = useState(group?.id ?? '');
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [mailboxAccess, setMailboxAccess] = useState<string>(group?.mailboxAccess ?? 'office365');
  const change = useGuardedChange(group ?? { id });

  async function submit(e: Event) {
    e.preventDefault();
    const saved = await change.run(() =>
      group
        ? call<Group>('PATCH', groupPath(group.id), { body: { name, description }, ifMatch: group.etag })
        : call<Group>('POST', 'groups', { body: { id, name, mailboxAccess, ...(description ? { description } : {}) } }),
    );
    if (saved) onSaved(saved.data);
  }

  return (
    <Modal title={group ? `Edit ${group.name}` : 'New group'} onClose={onClose}>
      {change.conflict !== undefined ? (
        <ConflictNotice group={change.conflict} onReload={() => (change.conflict ? onSaved(change.conflict) : onClose())} />
      ) : (
        <form class="form" onSubmit={submit}>
          <label class="field">
            <span>External ID</span>
            <input
              name="id"
              required
              readOnly={group !== null}
              aria-describedby="gid-hint"
              pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
              value={id}
              onInput={(e) => setId(e.currentTarget.value)}
            />
            <small id="gid-hint" class="hint">
              {group ? 'Fixed once saved.' : 'Letters, digits, “_”, “.” or “-”. It cannot be changed once saved.'}
            </small>
          </label>
          <label class="field">
            <span>Name</span>
            <input name="name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>Description</span>
            <textarea name="description" maxLength={1000} rows={3} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>Mailbox access type</span>
            <select name="mailboxAccess" disabled={group !== null} value={mailboxAccess} onChange={(e) => setMailboxAccess(e.currentTarget.value)}>
              {Object.entries(MAILBOX_LABEL).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <ProblemAlert error={change.error} />
          <div class="modal-actions">
            <button type="button" class="btn btn-secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="btn btn-primary" disabled={change.busy}>
              {group ? 'Save' : 'Create group'}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

/** Delete; the service refuses while the group is enabled and the dialog shows its reason. */
export function DeleteDialog({ group, onClose, onDeleted }: { group: Group; onClose: () => void; onDeleted: (reload?: Group) => void }) {
  const change = useGuardedChange(group);
  async function confirm() {
    const done = await change.run(() => call<unknown>('DELETE', groupPath(group.id), { ifMatch: group.etag }));
    if (done) onDeleted();
  }
  return (
    <Modal title={`Delete ${group.name}?`} onClose={onClose}>
      {change.conflict !== undefined ? (
        <ConflictNotice group={change.conflict} onReload={() => onDeleted(change.conflict ?? undefined)} />
      ) : (
        <>
          <p>
            The group and its {plural(group.memberCount, 'membership')} are removed. Its history is kept. {group.sync === 'enabled' && 'An enabled group cannot be deleted: disable synchronization first.'}
          </p>
          <ProblemAlert error={change.error} />
          <DangerActions label="Delete group" busy={change.busy} onCancel={onClose} onConfirm={confirm} />
        </>
      )}
    </Modal>
  );
}

/**
 * The mass-removal guard stopped this group's pass: nobody is removed until an
 * administrator confirms (POST .../sync/confirm-removals), or a later check no longer sees it.
 */
export function HoldNotice({ group, releasing = false, onConfirmed }: { group: Group; releasing?: boolean; onConfirmed: () => void }) {
  const [open, setOpen] = useState(false);
  const change = useGuardedChange(group);
  const hold = group.hold;
  if (!hold) return null;
  async function confirm() {
    const done = await change.run(() => call<ConfirmRemovalsResult>('POST', `${groupPath(group.id)}/sync/confirm-removals`, { ifMatch: group.etag }));
    if (done) {
      setOpen(false);
      onConfirmed();
    }
  }
  const reasons = Object.entries(hold.byReason).filter(([, n]) => n > 0);
  return (
    <div class="alert alert-warning" role="status">
      <div class="alert-body">
        <strong class="alert-title">Held by the mass-removal guard</strong>
        <p>
          A synchronization pass would take {plural(hold.count, 'person', 'people')} of {hold.activeMembers} active members out of
          synchronization (the limit is {hold.limit}). Nobody has been removed. {hold.cause}
        </p>
        {reasons.length > 0 && (
          <ul class="reasons" aria-label="Held removals by reason">
            {reasons.map(([reason, n]) => (
              <li key={reason}>
                <strong>{n}</strong> {reasonLabel(reason)}
              </li>
            ))}
          </ul>
        )}
        <p class="small">
          Held since {when(hold.heldAt)}; last seen {when(hold.checkedAt)}.
        </p>
        {releasing && <p class="small">Confirmed: the removals are being carried out…</p>}
      </div>
      {!releasing && (
        <button type="button" class="btn btn-danger btn-small" onClick={() => setOpen(true)}>
          Confirm removals
        </button>
      )}
      {open && (
        <Modal title={`Confirm removals for ${group.name}?`} onClose={() => setOpen(false)}>
          {change.conflict !== undefined ? (
            <ConflictNotice
              group={change.conflict}
              onReload={() => {
                setOpen(false);
                onConfirmed();
              }}
            />
          ) : (
            <>
              <p>
                {plural(hold.count, 'person', 'people')} stop syncing and their subscriptions are removed. This is recorded in the group's activity.
              </p>
              <ProblemAlert error={change.error} />
              <DangerActions label="Confirm removals" busy={change.busy} onCancel={() => setOpen(false)} onConfirm={confirm} />
            </>
          )}
        </Modal>
      )}
    </div>
  );
}
