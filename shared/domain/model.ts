/**
 * The vocabulary of Connect Sync. Pure types and constants: no I/O.
 * SPEC §2 is the source of every code and status here.
 */

export const SYNC_STATUSES = ['active', 'pending', 'with_issues', 'suspended', 'not_configured', 'disabled'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];
export type StatusCounts = Record<SyncStatus, number>;

export const ORG_PREREQUISITES = ['PUBLIC_URL', 'WINDOWS_AUTH', 'API_CLIENT', 'IP_ALLOWLIST'] as const;
export type OrgPrerequisiteCode = (typeof ORG_PREREQUISITES)[number];

export const CALLER_PREREQUISITES = ['ADMIN_ROLE', 'ADMIN_EMPLOYEE'] as const;
export type CallerPrerequisiteCode = (typeof CALLER_PREREQUISITES)[number];

/** Member prerequisites checked against Vantagepoint (before any mailbox is touched). */
export const MEMBER_PREREQUISITES = [
  'NO_EMPLOYEE_RECORD',
  'INVALID_EMAIL',
  'NO_USER_RECORD',
  'USER_INACTIVE',
  'EMPLOYEE_INACTIVE',
  'EMPLOYEE_TERMINATED',
] as const;
export type MemberPrerequisiteCode = (typeof MEMBER_PREREQUISITES)[number];

/** Permanent mail-provider failures for one member. */
export const MAILBOX_REASONS = ['MAILBOX_NOT_FOUND', 'MAILBOX_ACCESS_DENIED'] as const;
export type MailboxReason = (typeof MAILBOX_REASONS)[number];

/** The reason that goes with a status (null when active). */
export type StatusReason =
  | MemberPrerequisiteCode
  | MailboxReason
  | 'GROUP_DISABLED'
  | 'USER_DISABLED'
  | 'NOT_A_MEMBER'
  | 'SUBSCRIPTIONS_PENDING'
  | 'TRANSIENT_FAILURE'
  | 'TOO_MANY_FAILURES';

export interface PrerequisiteResult<C extends string = string> {
  code: C;
  ok: boolean;
  message: string;
  /** true when the prerequisite could not be checked (ok is then false and message names the cause) */
  unknown?: true;
}

export type MailboxAccess = 'office365' | 'google';
export type SyncSwitch = 'enabled' | 'disabled';
export type MailResource = 'events' | 'contacts' | 'messages';

/** A group as stored. `etag` is the storage ETag used for optimistic concurrency. */
export interface Group {
  id: string;
  name: string;
  description: string;
  mailboxAccess: MailboxAccess;
  sync: SyncSwitch;
  /** When the switch last changed (ISO); lets readers tell a stale status summary from a fresh one. */
  syncChangedAt: string;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
  /**
   * Set when a delete was accepted: the group is gone for every reader (404, not listed, its
   * claims count as free) while a queued release job removes its members, then the row.
   */
  deletingSince?: string | null;
  etag: string;
}

/** A group member as stored: the Vantagepoint facts captured when the member prerequisites were last evaluated. */
export interface Member {
  groupId: string;
  employeeId: string;
  name: string;
  email: string;
  /** First failing member prerequisite, or null when all pass. */
  prerequisite: MemberPrerequisiteCode | null;
  prerequisiteMessage: string;
  checkedAt: string;
  addedAt: string;
  addedBy: string;
}

/** The Vantagepoint facts about one employee that member prerequisites are evaluated on. */
export interface EmployeeFacts {
  employeeId: string;
  /** false when Vantagepoint has no employee record with this key */
  exists: boolean;
  name: string;
  email: string;
  /** Vantagepoint employee Status: A (active), I (inactive), T (terminated) */
  employeeStatus: 'A' | 'I' | 'T' | string;
  /** The associated user record, if any */
  user: { username: string; active: boolean } | null;
}

/** Per-user state: the personal switch and the reconciler's bookkeeping. */
export interface UserState {
  employeeId: string;
  /** personal switch; users start enabled (the group switch decides) */
  userEnabled: boolean;
  consecutiveFailures: number;
  /** set when suspended: TOO_MANY_FAILURES or a permanent mailbox reason */
  suspendedReason: 'TOO_MANY_FAILURES' | MailboxReason | null;
  /** when the current suspension began (the episode its notification emails belong to); null when not suspended */
  suspendedAt: string | null;
  /** the suspendedAt whose notice is on the outbox: a suspension is announced once, even if a run dies mid-way */
  suspensionNoticeFor: string | null;
  lastErrors: Array<{ at: string; resource: string; code: string; message: string }>;
  nextRetryAt: string | null;
  /**
   * How many times an administrator forced a sync (the admin's fact). A reconcile run that read
   * an older count does not write its failure streak over the force (one owner per fact).
   */
  forces: number;
  /** set by `missed`/`subscriptionRemoved` lifecycle events: the data-sync consumer should resync */
  resyncRequestedAt: string | null;
  updatedAt: string;
  etag: string;
}

/** One provider subscription the service owns (our table is the source of truth, never Graph's list). */
export interface Subscription {
  employeeId: string;
  resource: MailResource;
  subscriptionId: string;
  /** the mailbox it watches: a member whose email changes needs new subscriptions */
  mailbox: string;
  expiresAt: string;
  createdAt: string;
  lastRenewedAt: string | null;
  /** SHA-256 of the clientState given to the provider; the value itself is never stored. */
  clientStateHash: string;
  etag: string;
}

/** One audit row: who changed what, when, from → to. */
export interface AuditEntry {
  at: string;
  by: string;
  action: string;
  target: string;
  from: unknown;
  to: unknown;
  requestId: string;
}

/** The calling administrator, once resolved and checked. */
export interface Caller {
  username: string;
  employeeId: string;
  email: string;
  /** the user record's Role when Vantagepoint returned one; '' when the admin list decided */
  role: string;
  /** how the caller proved who they are */
  via: 'session' | 'form-key' | 'vantagepoint-token';
  /** the service session behind the call (via 'session' only) */
  session?: SessionInfo;
}

/** One signed-in administrator's service session (the token itself is never kept). */
export interface SessionInfo {
  id: string;
  expiresAt: string;
  /** sent back in X-CSRF-Token on cookie-authenticated writes */
  csrfToken: string;
}

/**
 * What a request offers to prove who is calling, extracted by the HTTP layer
 * (docs/VANTAGEPOINT.md, "Signing in"). Pure data: the operations decide.
 */
export interface CallerCredentials {
  method: string;
  /** Authorization: Bearer … */
  bearer: string | null;
  /** the session cookie */
  cookie: string | null;
  /** X-CSRF-Token */
  csrfToken: string | null;
  /** X-Connect-Form-Key */
  formKey: string | null;
  /** X-Connect-Acting-User */
  actingUser: string | null;
}
