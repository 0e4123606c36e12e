import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from './api';
import { STATUS_LABEL, STATUSES } from './format';
import type { Group, StatusCounts, SyncStatus } from './types';
import { when } from './format';

export function StatusBadge({ status }: { status: SyncStatus }) {
  return <span class={`badge badge-${status}`}>{STATUS_LABEL[status]}</span>;
}

export function SwitchBadge({ sync }: { sync: Group['sync'] }) {
  return <span class={`badge ${sync === 'enabled' ? 'badge-active' : 'badge-disabled'}`}>{sync === 'enabled' ? 'Enabled' : 'Disabled'}</span>;
}

/** Per-status counts as a compact list; zero counts are left out unless `all`. */
export function Counts({ counts, all = false }: { counts: StatusCounts; all?: boolean }) {
  const shown = STATUSES.filter((s) => all || counts[s] > 0);
  if (shown.length === 0) return <span class="muted">No members</span>;
  return (
    <ul class="counts">
      {shown.map((s) => (
        <li key={s} class={`count count-${s}`}>
          <span class="count-n">{counts[s]}</span> {STATUS_LABEL[s]}
        </li>
      ))}
    </ul>
  );
}

/** An error as the API described it: the problem's title and detail (and each bad field). */
export function ProblemAlert({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const problem =
    error instanceof ApiError
      ? error.problem
      : { title: 'Something went wrong', detail: error instanceof Error ? error.message : typeof error === 'string' ? error : 'The request failed.', errors: undefined, prerequisites: undefined };
  const failing = problem.prerequisites?.filter((p) => !p.ok) ?? [];
  return (
    <div class="alert alert-error" role="alert">
      <div class="alert-body">
        <strong class="alert-title">{problem.title}</strong>
        <p>{problem.detail}</p>
        {problem.errors && problem.errors.length > 0 && (
          <ul>
            {problem.errors.map((e) => (
              <li key={e.field}>
                <code>{e.field}</code>: {e.message}
              </li>
            ))}
          </ul>
        )}
        {failing.length > 0 && (
          <ul>
            {failing.map((p) => (
              <li key={p.code}>
                <code>{p.code}</code>: {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {onDismiss && (
        <button type="button" class="btn btn-ghost btn-small" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

/**
 * Someone else changed the group after this page read it (412): say who and when, and
 * offer to reload it. Never overwrites their change.
 */
export function ConflictNotice({ group, onReload }: { group: Group | null; onReload: () => void }) {
  return (
    <div class="alert alert-warning" role="alert">
      <div class="alert-body">
        <strong class="alert-title">This group was changed by someone else</strong>
        <p>
          {group ? (
            <>
              <strong>{group.updatedBy}</strong> changed “{group.name}” on {when(group.updatedAt)}. Your change was not applied. Reload to see
              the group as it is now, then decide again.
            </>
          ) : (
            <>Your change was not applied because the group changed since you loaded it. Reload to see it as it is now.</>
          )}
        </p>
      </div>
      <button type="button" class="btn btn-primary btn-small" onClick={onReload}>
        Reload
      </button>
    </div>
  );
}

/** A modal built on the native <dialog>: focus is trapped inside, Escape closes it, focus returns after. */
export function Modal({ title, onClose, children, wide = false }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2)}`).current;
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      opener?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? 'modal modal-wide' : 'modal'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div class="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="btn btn-ghost btn-icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <div class="modal-body">{children}</div>
    </dialog>
  );
}

/** A confirmation's buttons for a change that removes something: Cancel, then the named danger action. */
export function DangerActions({ label, busy, onCancel, onConfirm }: { label: string; busy: boolean; onCancel: () => void; onConfirm: () => void }) {
  return (
    <div class="modal-actions">
      <button type="button" class="btn btn-secondary" onClick={onCancel}>
        Cancel
      </button>
      <button type="button" class="btn btn-danger" disabled={busy} onClick={onConfirm}>
        {label}
      </button>
    </div>
  );
}

export function Pager({ page, hasNext, onFirst, onNext, onPrevious, label }: { page: number; hasNext: boolean; onFirst: () => void; onPrevious: () => void; onNext: () => void; label: string }) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="btn btn-secondary btn-small" disabled={page === 1} onClick={onFirst}>
        First
      </button>
      <button type="button" class="btn btn-secondary btn-small" disabled={page === 1} onClick={onPrevious}>
        Previous
      </button>
      <span class="pager-page" aria-live="polite">
        Page {page}
      </span>
      <button type="button" class="btn btn-secondary btn-small" disabled={!hasNext} onClick={onNext}>
        Next
      </button>
    </nav>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Check({ ok, children }: { ok: boolean; children: ComponentChildren }) {
  return (
    <li class={ok ? 'check check-ok' : 'check check-fail'}>
      <span class="check-mark" aria-hidden="true">
        {ok ? '✓' : '✕'}
      </span>
      <span class="visually-hidden">{ok ? 'Passed: ' : 'Failed: '}</span>
      <span>{children}</span>
    </li>
  );
}
