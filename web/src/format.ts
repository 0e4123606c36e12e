import type { Group, StatusCounts, SyncStatus } from './types';

export const STATUSES: SyncStatus[] = ['active', 'pending', 'with_issues', 'suspended', 'not_configured', 'disabled'];

export const STATUS_LABEL: Record<SyncStatus, string> = {
  active: 'Active',
  pending: 'Pending',
  with_issues: 'With issues',
  suspended: 'Suspended',
  not_configured: 'Not configured',
  disabled: 'Disabled',
};

export const MAILBOX_LABEL: Record<string, string> = { office365: 'Microsoft 365 (Outlook)', google: 'Google Workspace' };

/** Member prerequisite codes in words (SPEC §2). */
export const REASON_LABEL: Record<string, string> = {
  NO_EMPLOYEE_RECORD: 'No employee record',
  INVALID_EMAIL: 'No valid email address',
  NO_USER_RECORD: 'No user record',
  USER_INACTIVE: 'User inactive',
  EMPLOYEE_INACTIVE: 'Employee inactive',
  EMPLOYEE_TERMINATED: 'Employee terminated',
  MAILBOX_NOT_FOUND: 'Mailbox not found',
  MAILBOX_ACCESS_DENIED: 'Mailbox access denied',
};

export const reasonLabel = (code: string | null | undefined): string => (code ? (REASON_LABEL[code] ?? code.replace(/_/g, ' ').toLowerCase()) : '');

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** People whose mailbox is being synchronized (or about to be) right now. */
export const syncingCount = (c: StatusCounts): number => c.active + c.pending + c.with_issues;

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Milliseconds between status refreshes while members settle after a change. */
export const SETTLE_POLL_MS = 1500;

/** An enabled group whose members are still being set up: its statuses change by themselves. */
export const isSettling = (g: Group): boolean => g.sync === 'enabled' && g.counts.pending > 0;
