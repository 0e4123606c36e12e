/**
 * The small interfaces through which operations reach the outside world.
 * Adapters implement them against Azure (Table Storage, Storage Queues, Key Vault)
 * and real HTTP APIs (Vantagepoint, Microsoft Graph); locally the same adapters run
 * against Azurite and the project's emulators.
 */
import type {
  AuditEntry,
  Caller,
  EmployeeFacts,
  Group,
  MailboxReason,
  MailResource,
  Member,
  MemberPrerequisiteCode,
  StatusCounts,
  Subscription,
  SyncSwitch,
  UserState,
} from './domain/model';
import type { GuardThreshold } from './domain/guard';
import type { Notice, NoticeCause } from './domain/notices';

export interface Page<T> {
  items: T[];
  continuationToken: string | null;
}
export interface PageRequest {
  top: number;
  continuationToken?: string | undefined;
}

// ---------------------------------------------------------------- storage

export type NewGroup = Omit<Group, 'etag'>;
export type GroupPatch = Partial<Pick<Group, 'name' | 'description' | 'sync' | 'syncChangedAt' | 'updatedAt' | 'updatedBy'>>;

export interface GroupStore {
  /** ConflictError DUPLICATE_ID / DUPLICATE_NAME (name unique ignoring case). */
  create(group: NewGroup): Promise<Group>;
  get(id: string): Promise<Group | null>;
  /** filter: case-insensitive substring of name or id. */
  list(query: PageRequest & { filter?: string | undefined; sync?: SyncSwitch | undefined }): Promise<Page<Group>>;
  /** Optimistic: PreconditionFailedError when etag is stale; ConflictError DUPLICATE_NAME on rename clash. */
  update(id: string, patch: GroupPatch, etag: string): Promise<Group>;
  /** Optimistic as update. */
  delete(id: string, etag: string): Promise<void>;
}

/** Per-group membership summary, kept in step with member writes (so the toggle reads O(1)). */
export interface MemberSummary {
  memberCount: number;
  notConfigured: Partial<Record<MemberPrerequisiteCode, number>>;
}

export type AddMemberOutcome =
  | { employeeId: string; outcome: 'added' | 'already_member' | 'moved'; fromGroupId?: string }
  | { employeeId: string; outcome: 'conflict'; otherGroupId: string };

export interface MemberStore {
  /**
   * Adds members (prerequisites already evaluated). A user belongs to at most one group:
   * one in another group is a 'conflict' unless move is true. Bulk writes use Table transactions.
   */
  add(groupId: string, members: Member[], options: { move: boolean }): Promise<AddMemberOutcome[]>;
  /** false when the employee was not a member of that group. */
  remove(groupId: string, employeeId: string): Promise<boolean>;
  get(groupId: string, employeeId: string): Promise<Member | null>;
  /** Reverse lookup: the group this employee belongs to, if any. */
  groupOf(employeeId: string): Promise<string | null>;
  list(groupId: string, page: PageRequest): Promise<Page<Member>>;
  /** First members failing a prerequisite, read from an index (no scan of the group). */
  listWithIssues(groupId: string, page: PageRequest): Promise<Page<Member>>;
  summary(groupId: string): Promise<MemberSummary>;
  /** Re-records prerequisite results (reconciler refresh); keeps summary and index in step. */
  updatePrerequisites(groupId: string, members: Member[]): Promise<void>;
  /** Removes every member row of a group (group deletion); returns how many were removed. */
  removeAll(groupId: string): Promise<number>;
}

export interface StatusSummary {
  counts: StatusCounts;
  computedAt: string;
  /** the group's syncChangedAt these counts were computed for: they describe that position of the switch only */
  switchAt: string;
}
/** Who runs a group pass and until when (it is renewed per page). */
export interface PassLease {
  holder: string;
  until: string;
}
/**
 * Lets the sweep skip a group whose pass is still running instead of starting a second
 * one beside it. Advisory: passes are safe to overlap, only wasteful.
 */
export interface PassLeaseStore {
  get(groupId: string): Promise<PassLease | null>;
  /** last writer wins */
  put(groupId: string, lease: PassLease): Promise<void>;
  /** removes the lease if `holder` still holds it */
  release(groupId: string, holder: string): Promise<void>;
}

/** Status counts per group, written by the reconciler after each pass (derived data). */
export interface StatusSummaryStore {
  get(groupId: string): Promise<StatusSummary | null>;
  put(groupId: string, summary: StatusSummary): Promise<void>;
}

export interface UserStateStore {
  /** The stored state, or null when the user has none yet (defaults apply). */
  get(employeeId: string): Promise<UserState | null>;
  /** Create when etag is null (ConflictError if it now exists), else replace if etag matches (PreconditionFailedError). */
  save(state: Omit<UserState, 'etag'>, etag: string | null): Promise<UserState>;
  delete(employeeId: string): Promise<void>;
}

export interface SubscriptionLookup {
  employeeId: string;
  resource: MailResource;
  clientStateHash: string;
}

export interface SubscriptionStore {
  listForUser(employeeId: string): Promise<Subscription[]>;
  /** Create (etag null; ConflictError when one exists for (user, resource)) or replace with etag. */
  save(sub: Omit<Subscription, 'etag'>, etag: string | null): Promise<Subscription>;
  delete(employeeId: string, resource: MailResource, etag: string): Promise<void>;
  /** Notification intake: which (user, resource) a Graph subscription id belongs to. */
  findById(subscriptionId: string): Promise<SubscriptionLookup | null>;
  /** Pages over all users that have subscriptions (timer sweep). */
  listUsers(page: PageRequest): Promise<Page<string>>;
}

export interface AuditLog {
  append(scope: string, entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(scope: string, page: PageRequest): Promise<Page<AuditEntry>>;
}

// ---------------------------------------------------------------- queues

export interface ReconcileRequest {
  /** reconcile every member of this group */
  groupId?: string | undefined;
  /** or one user */
  employeeId?: string | undefined;
  /** or every user holding subscriptions outside any group (the sweep's scan) */
  outsideGroups?: boolean | undefined;
  reason: string;
  requestId: string;
  /** a group pass that ran out of time carries on from here (members continuation token) */
  continuationToken?: string | undefined;
  /** the group's syncChangedAt when the pass began: a continuation stops if the switch has moved since */
  passOf?: string | undefined;
  /** the status counts accumulated by the earlier part of an interrupted group pass */
  partialCounts?: Record<string, number> | undefined;
  /** renew these subscriptions now whatever their expiry (reauthorizationRequired) */
  renewSubscriptionIds?: string[] | undefined;
  /** the provider removed these (subscriptionRemoved): forget and recreate them */
  removedSubscriptionIds?: string[] | undefined;
}
export interface ReconcileQueue {
  request(message: ReconcileRequest): Promise<void>;
}

/** Accepted change notifications for the data-sync consumer (schema in docs/CHANGE-QUEUE.md). */
export interface ChangeQueue {
  publish(message: Record<string, unknown>): Promise<void>;
}

// ---------------------------------------------------------------- secrets

export interface SecretValue {
  value: string;
  version: string;
  updatedOn: string | null;
}
export interface SecretSource {
  /** Cached; re-reads when the cache is older than the refresh interval. */
  get(name: string): Promise<SecretValue>;
  /** Forces a fresh read (rotation, invalid_client). */
  refresh(name: string): Promise<SecretValue>;
  readonly kind: 'key-vault' | 'environment';
}

// ---------------------------------------------------------------- Vantagepoint

export interface CredentialHealth {
  ok: boolean;
  secretVersion: string | null;
  lastTokenAt: string | null;
  lastError: string | null;
  secretSource: SecretSource['kind'];
}

/** What the caller check establishes about an administrator. */
export type CheckedCaller = Omit<Caller, 'via' | 'session'>;

export interface VantagepointDirectory {
  /** The person's own password grant: UnauthorizedError INVALID_CREDENTIALS when refused; nothing is kept. */
  authenticate(username: string, password: string): Promise<void>;
  /** The caller check with the service account: ForbiddenError ADMIN_ROLE / ADMIN_EMPLOYEE; cached CALLER_CACHE_SECONDS. */
  checkCaller(username: string): Promise<CheckedCaller>;
  /** Vantagepoint-bearer mode only (VANTAGEPOINT_WHOAMI_PATH): who owns this Vantagepoint token. */
  whoAmI(bearerToken: string): Promise<string>;
  /** Facts for member prerequisites; unknown ids come back with exists=false. */
  employeeFacts(employeeIds: string[]): Promise<Map<string, EmployeeFacts>>;
  /** Token endpoint reachable and credentials accepted (API_CLIENT / PUBLIC_URL checks); `unknown` when it could not be asked. */
  checkCredentials(): Promise<{ ok: boolean; message: string; unknown?: boolean }>;
  health(): CredentialHealth;
  /** Re-read the secret and re-acquire tokens now. */
  refreshCredentials(): Promise<CredentialHealth>;
}

// ---------------------------------------------------------------- admin sessions

export interface IssuedSession {
  token: string;
  id: string;
  expiresAt: string;
  csrfToken: string;
}

export interface SessionClaims {
  id: string;
  username: string;
  expiresAt: string;
  csrfToken: string;
}

/** The service's own signed session tokens (keys from the secret source; two accepted during a rotation). */
export interface SessionSigner {
  issue(username: string, now: Date): Promise<IssuedSession>;
  /** null when the token is not one of ours, is tampered with, or has expired */
  verify(token: string, now: Date): Promise<SessionClaims | null>;
}

/** Signed-out sessions, remembered until they would have expired anyway (shared by every instance). */
export interface SessionRevocations {
  revoke(sessionId: string, expiresAt: string): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}

/** Failed sign-ins per key ("user|name", "address|ip"), shared by every instance. */
export interface SignInFailureStore {
  /** the recorded failures of a key, or null */
  get(key: string): Promise<{ failures: number; windowStart: string; etag: string } | null>;
  /** create (etag null) or replace with etag; PreconditionFailedError / ConflictError on a race */
  save(key: string, value: { failures: number; windowStart: string }, etag: string | null): Promise<void>;
  delete(key: string): Promise<void>;
}

// ---------------------------------------------------------------- mail provider

export type MailOperation =
  | { kind: 'create'; employeeId: string; mailbox: string; resource: MailResource; expiresAt: string; clientState: string }
  | { kind: 'renew'; employeeId: string; subscriptionId: string; expiresAt: string }
  | { kind: 'delete'; employeeId: string; subscriptionId: string };

export type MailOperationResult =
  | { ok: true; subscriptionId?: string; expiresAt?: string }
  | {
      ok: false;
      /** permanent: do not retry for this member; gone: subscription no longer exists (recreate / treat as deleted);
       *  exists: create found one already there; transient: retry with backoff */
      failure: 'permanent' | 'gone' | 'exists' | 'transient';
      reason?: MailboxReason;
      status: number;
      code: string;
      message: string;
      /** the provider's Retry-After, when it gave one: the next retry is never sooner */
      retryAfterMs?: number;
    };

export interface MailProvider {
  /** Applies operations (batched, throttled, retried on Retry-After); one result per operation, same order. */
  apply(operations: MailOperation[]): Promise<MailOperationResult[]>;
  /**
   * Finds the provider's subscription ids for (mailbox, resource) after a create answered
   * "already exists" and our table holds none (an orphan from a lost response). Uses the
   * provider's list endpoint, which is heavily rate-limited: call only for that case.
   */
  findExisting(mailbox: string, resource: MailResource): Promise<string[]>;
}

// ---------------------------------------------------------------- notifications

/** The organisation's Connect settings (Settings tab): one row, written only by PUT /api/connect/settings. */
export interface ConnectSettings {
  notificationEmails: string[];
  massRemovalGuard: GuardThreshold;
  updatedAt: string | null;
  updatedBy: string | null;
  etag: string;
}

export interface SettingsStore {
  /** null when nobody has saved settings yet (defaults apply) */
  get(): Promise<ConnectSettings | null>;
  /** Create (etag null; ConflictError when someone just did) or replace under the ETag (PreconditionFailedError). */
  save(settings: Omit<ConnectSettings, 'etag'>, etag: string | null): Promise<ConnectSettings>;
}

/** How the last notification emails went: written by the outbox only, shown on connect status. */
export interface MailHealth {
  lastSentAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
}
export interface MailHealthStore {
  get(): Promise<MailHealth>;
  recordSent(at: string): Promise<void>;
  recordFailure(at: string, error: string): Promise<void>;
}

/** One email's de-duplication key. */
export interface MailKey {
  recipient: string;
  cause: NoticeCause;
  episode: string;
}
/**
 * claimed: this delivery sends it; sent: it was sent already (nothing to do);
 * busy: another delivery is sending it right now (try again later).
 */
export type MailClaim = 'claimed' | 'sent' | 'busy';
/** What was sent, per (recipient, cause, episode): makes at-least-once delivery send each email once. */
export interface MailLog {
  /** A claim older than `staleAfterMs` belongs to a delivery that died: it is taken over. */
  claim(key: MailKey, now: Date, staleAfterMs: number): Promise<MailClaim>;
  markSent(key: MailKey, now: Date): Promise<void>;
  /** Gives a claim back after a failed send, so a retry can claim it. */
  release(key: MailKey): Promise<void>;
}

/** A notice on its way to the outbox (queue `notification-mail`). */
export interface NoticeMessage {
  notice: Notice;
  requestId: string;
  /** 1 for the first delivery; a scheduled retry carries the next number */
  attempt: number;
}
export interface NoticeQueue {
  /** delaySeconds > 0 schedules it (the message stays invisible that long) */
  publish(message: NoticeMessage, delaySeconds?: number): Promise<void>;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  body: string;
}
export type MailSendResult =
  | { ok: true }
  | {
      ok: false;
      /** transient: throttled, unavailable, unreachable; refused: the provider will not send it as things stand (permission, sender mailbox) */
      failure: 'transient' | 'refused';
      status: number;
      code: string;
      message: string;
      retryAfterMs?: number;
    };
/** Sends one email from the configured sender mailbox. Never throws for the provider's answer. */
export interface Mailer {
  readonly sender: string;
  send(mail: OutgoingMail): Promise<MailSendResult>;
}
