import type { Log } from './logging';
/**
 * The small interfaces through which operations reach the outside world.
 * Adapters implement them against Azure (Table Storage, Storage Queues, Key Vault)
 * and real HTTP APIs (Vantagepoint, Microsoft Graph); locally the same adapters run
 * against Azurite and the project's emulators.
 */
import type { DirectoryEntry } from './domain/employeeSearch';
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
  /** Optimistic as update. Removes the row for good (the release job's last step). */
  delete(id: string, etag: string): Promise<void>;
  /**
   * Accepts a delete: the group is marked `deletingSince` (optimistic as update) and its name
   * released. From then `get` and `list` no longer see it; the release job finishes the delete.
   */
  markDeleting(id: string, etag: string, at: string): Promise<Group>;
  /** A group being deleted (for the release job), or null. */
  getDeleting(id: string): Promise<Group | null>;
  /** Ids of every group being deleted (the sweep re-queues their release). */
  listDeleting(): Promise<string[]>;
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
  /** Reverse lookup: the group this employee belongs to, if any (a stale claim counts as none). */
  groupOf(employeeId: string): Promise<string | null>;
  list(groupId: string, page: PageRequest): Promise<Page<Member>>;
  /** First members failing a prerequisite, read from an index (no scan of the group). */
  listWithIssues(groupId: string, page: PageRequest): Promise<Page<Member>>;
  summary(groupId: string): Promise<MemberSummary>;
  /** Re-records prerequisite results (reconciler refresh); keeps summary and index in step. */
  updatePrerequisites(groupId: string, members: Member[]): Promise<void>;
  /**
   * Removes every row of a group's partition, releasing the claims that name the group
   * (the release job of a group deletion); stops at `until` (ms since epoch). Resumable.
   */
  removeAll(groupId: string, options?: { until?: number }): Promise<{ removed: number; done: boolean }>;
  /** The group each user's claim names, stale or not (the claim is the source of truth). */
  claimedGroups(employeeIds: string[]): Promise<Map<string, string | null>>;
  /** Deletes member rows (with their index rows and summary share) whose claim names another group; claims untouched. */
  removeRows(groupId: string, members: Member[]): Promise<void>;
}

export interface StatusSummary {
  counts: StatusCounts;
  computedAt: string;
  /** the group's syncChangedAt these counts were computed for: they describe that position of the switch only */
  switchAt: string;
  /** set when the mass-removal guard stopped the group's last pass (a completed pass clears it) */
  hold?: GroupHold | null | undefined;
  /** when the pass that counted started: a pass that started earlier never overwrites a later one's counts */
  passStartedAt?: string | undefined;
}

/** The mass-removal guard's outcome for a group: written by the reconciler only. */
export interface GroupHold {
  /** when the hold began (its episode: a confirmation names it) */
  heldAt: string;
  /** when a pass last saw the mass change */
  checkedAt: string;
  /** members the pass would have taken out of synchronization */
  count: number;
  activeMembers: number;
  /** the most one pass may take out (from the threshold) */
  limit: number;
  /** why: the new failing prerequisite per member counted */
  byReason: Record<string, number>;
  cause: string;
  /** the administrators' notice is on the outbox */
  noticeQueued: boolean;
}

/** An administrator's confirmation of a hold's removals (POST .../sync/confirm-removals): written by that request only. */
export interface RemovalConfirmation {
  /** the hold it releases; it releases no other */
  heldAt: string;
  by: string;
  at: string;
}
export interface RemovalConfirmationStore {
  get(groupId: string): Promise<RemovalConfirmation | null>;
  put(groupId: string, confirmation: RemovalConfirmation): Promise<void>;
}
/** Who runs a group pass, for which position of the switch, and until when (it is renewed per page). */
export interface PassLease {
  holder: string;
  until: string;
  /** the group's syncChangedAt the pass acts on (a pass for a newer position takes the lease over) */
  passOf?: string | undefined;
}
export type LeaseClaim =
  | { acquired: true }
  /** `followUpQueued`: a pass after this one was already asked for (the caller need not queue another) */
  | { acquired: false; holder: string; until: string; followUpQueued: boolean };
/**
 * One pass per group at a time, as controller-runtime never works one key twice at once:
 * overlapping passes would spend Graph's write budget twice and count each other's
 * half-done users as pending.
 */
export interface PassLeaseStore {
  get(groupId: string): Promise<PassLease | null>;
  /**
   * Takes or renews the lease (ETag-guarded): free, expired, already ours, or held for an
   * older position of the switch. Otherwise reports the holder; with `followUp` it also marks
   * the lease as owing one more pass and says whether that was already marked.
   */
  acquire(groupId: string, lease: PassLease, now: Date, options?: { followUp?: boolean }): Promise<LeaseClaim>;
  /** unconditional write (tests and tools); passes use `acquire` */
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
  /** or release the members of a deleted group, then remove its row (resumable) */
  releaseGroupId?: string | undefined;
  reason: string;
  requestId: string;
  /** a group pass that ran out of time carries on from here (members continuation token) */
  continuationToken?: string | undefined;
  /** the group's syncChangedAt when the pass began: a continuation stops if the switch has moved since */
  passOf?: string | undefined;
  /** the mass-removal guard could not survey this pass: it must not refresh prerequisites from Vantagepoint */
  skipPrerequisiteRefresh?: boolean | undefined;
  /** how many more members this pass's prerequisite refreshes may take out (the guard's limit; absent: no limit, a confirmed hold) */
  removalBudget?: number | undefined;
  /** the status counts accumulated by the earlier part of an interrupted group pass */
  partialCounts?: Record<string, number> | undefined;
  /** when the group pass this continuation belongs to started (orders the passes' count writes) */
  passStartedAt?: string | undefined;
  /** the pass owed to requests that arrived while another pass held the group (it waits its turn) */
  followUp?: true | undefined;
  /** renew these subscriptions now whatever their expiry (reauthorizationRequired) */
  renewSubscriptionIds?: string[] | undefined;
  /** the provider removed these (subscriptionRemoved): forget and recreate them */
  removedSubscriptionIds?: string[] | undefined;
  /**
   * creates answered "already exists" while our table held no row: re-checked after a delay
   * (an overlapping run may have been saving it); still not ours → deleted and recreated
   */
  orphans?: Array<{ resource: MailResource; subscriptionId?: string | undefined }> | undefined;
  /** the paced tenant-wide orphan repair (lists every subscription the app holds); carries on from `continuationToken` */
  repairOrphans?: boolean | undefined;
  /** the breaker's probe: is Graph usable again? (operations/graphAccess.ts) */
  probeGraph?: boolean | undefined;
  /** a group force: the pass clears each member's suspension before reconciling them */
  clearSuspensions?: boolean | undefined;
}
export interface ReconcileQueue {
  /** `delaySeconds`: the message becomes visible only then (a scheduled retry or re-check) */
  request(message: ReconcileRequest, options?: { delaySeconds?: number }): Promise<void>;
}

/** Accepted change notifications for the data-sync consumer (schema in docs/CHANGE-QUEUE.md). */
export interface ChangeQueue {
  /** delaySeconds: the message becomes visible only then (a scheduled retry of the data-sync consumer) */
  publish(message: Record<string, unknown>, options?: { delaySeconds?: number }): Promise<void>;
}

/**
 * Graph deliveries as the webhook persisted them (docs/CHANGE-QUEUE.md, "Intake"): one delivery
 * may take several messages (64 KiB each), all sent at once, so persisting is one round trip.
 */
export interface DeliveryQueue {
  /** sends every message concurrently; rejects if any send failed (the caller answers 503 and Graph redelivers) */
  persist(messages: Record<string, unknown>[]): Promise<void>;
}

// ---------------------------------------------------------------- secrets

/** The clientState signing keys: one, or two during a rotation (the first signs, every one verifies). */
export interface ClientStateKeys {
  current(): Promise<string[]>;
}

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
  /**
   * Token endpoint reachable and credentials accepted (API_CLIENT / PUBLIC_URL checks).
   * rejected: Vantagepoint refused the credentials; unknown: it could not be asked (unreachable).
   */
  checkCredentials(): Promise<{ ok: boolean; message: string; rejected?: true; unknown?: true }>;
  health(): CredentialHealth;
  /** Re-read the secret and re-acquire tokens now. */
  refreshCredentials(): Promise<CredentialHealth>;
}

/**
 * The directory's whole employee list, for searching it: Vantagepoint documents no search
 * parameter, so the adapter reads the paged list (GET /api/employee) and keeps it briefly.
 */
export interface EmployeeList {
  /** Every employee with the facts the member prerequisites need; `readAt` says how old the copy is. */
  employees(): Promise<{ entries: DirectoryEntry[]; readAt: string }>;
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

/**
 * Why the provider cannot be used at all (organisation level, never one member's fault):
 * CREDENTIALS — the identity platform refuses the app's credentials (expired or wrong secret);
 * UNAUTHORIZED — Graph refuses the app's tokens (batch-level 401 after a fresh token);
 * PERMISSION — the app's permission or admin consent is missing (Authorization_RequestDenied);
 * SERVICE — Graph is failing for the whole tenant (batch-level 5xx, unreachable, every request 5xx).
 */
export type ProviderAccessCause = 'CREDENTIALS' | 'UNAUTHORIZED' | 'PERMISSION' | 'SERVICE';

export type MailOperationResult =
  | { ok: true; subscriptionId?: string; expiresAt?: string }
  | {
      ok: false;
      /** permanent: do not retry for this member; gone: subscription no longer exists (recreate / treat as deleted);
       *  exists: create found one already there; transient: retry with backoff (this mailbox's problem);
       *  unavailable: the provider cannot be used at all — never charged to the member (see `cause`) */
      failure: 'permanent' | 'gone' | 'exists' | 'transient' | 'unavailable';
      reason?: MailboxReason;
      /** for 'unavailable' */
      cause?: ProviderAccessCause;
      /** for 'exists': the id of the subscription already there, when the provider named it */
      existingId?: string;
      status: number;
      code: string;
      message: string;
      /** the provider's Retry-After, when it gave one: the next retry is never sooner */
      retryAfterMs?: number;
    };

/**
 * The result code of an operation `apply` did not start before its deadline: nothing was sent
 * for it, so it is neither a success nor a failure of the user; it continues in the next message.
 */
export const NOT_STARTED = 'NOT_STARTED';

export interface ApplyOptions {
  /** wall-clock ms since epoch: no operation starts after it; those left answer NOT_STARTED */
  deadline?: number | undefined;
}

export interface MailProvider {
  /**
   * Applies operations (batched, throttled, retried on Retry-After); one result per operation,
   * same order. Past `deadline` nothing more starts: operations still waiting answer a transient
   * result coded NOT_STARTED, so a long page never runs past the invocation's time budget.
   */
  apply(operations: MailOperation[], options?: ApplyOptions): Promise<MailOperationResult[]>;
  /** Writes this instance may make per second now (its share of the tenant's limit); paces page sizes. */
  writesPerSecond?(): number;
  /**
   * One page of every subscription the app holds in the tenant (`cursor` null = the first).
   * Graph's list endpoint is limited per tenant (25 calls per 20 s): only the paced repair
   * job calls it, never a user's reconcile.
   */
  listSubscriptions(cursor: string | null): Promise<{ items: ProviderSubscription[]; next: string | null }>;
}

// ---------------------------------------------------------------- organisation-level Graph access (the breaker)

/** The app's access to Graph as last observed, shared by every instance (one row, ETag-guarded). */
export interface GraphAccess {
  state: 'ok' | 'failing';
  /** why it fails (null when ok) */
  cause: ProviderAccessCause | null;
  code: string | null;
  message: string | null;
  /** when the current state began: since when it fails, or since when it works again */
  since: string | null;
  /** when the last probe ran (failing only) */
  lastProbeAt: string | null;
  /** members whose operations met the failure: the probe retries their work */
  probeEmployeeIds: string[];
}

export interface GraphAccessStore {
  /** null when never written (access is presumed ok) */
  get(): Promise<{ access: GraphAccess; etag: string } | null>;
  /** create (etag null; PreconditionFailedError if it exists) or replace under the etag (PreconditionFailedError when stale) */
  save(access: GraphAccess, etag: string | null): Promise<void>;
}

/** One transition of the organisation's Graph access, told once (by the instance that wrote it). */
export interface GraphAccessEvent {
  kind: 'lost' | 'recovered';
  cause: ProviderAccessCause | null;
  code: string | null;
  message: string | null;
  /** when access was lost (for `recovered`: when the outage began) */
  since: string;
  /** when this transition was recorded */
  at: string;
}

/**
 * Told when the organisation loses or regains Graph access (the e-mail notices subscribe here).
 * At most once per transition; a listener's failure is logged and never undoes the transition.
 */
export interface GraphAccessListener {
  graphAccessChanged(event: GraphAccessEvent, log: Log): Promise<void>;
}

export interface ProviderSubscription {
  id: string;
  /** e.g. users/{mailbox}/events */
  resource: string;
  notificationUrl: string | null;
  expiresAt: string | null;
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

/** An organisation-wide failure in progress (its start is the episode its notification belongs to). */
export interface Incident {
  since: string;
  detail: string;
  /** the notice of this episode is on the outbox */
  noticeQueued: boolean;
}
/**
 * Organisation-wide incidents by kind; each kind has one writer: `vantagepoint-credential` the
 * timer's credential check, `graph-access` the announcer of the Graph breaker's episodes.
 */
export type IncidentKind = 'vantagepoint-credential' | 'graph-access';
export interface IncidentStore {
  get(kind: IncidentKind): Promise<Incident | null>;
  put(kind: IncidentKind, incident: Incident): Promise<void>;
  clear(kind: IncidentKind): Promise<void>;
}

// ---------------------------------------------------------------- data sync (Outlook events → Vantagepoint activities)

/** (employee, Graph event id) → the activity we made for it. */
export interface ActivityLink {
  employeeId: string;
  eventId: string;
  /**
   * creating: our intent, written before the Vantagepoint create (a crash leaves it, and the
   * retry looks for the orphan before creating); synced: activityId is the event's activity;
   * removed: the event left the rules and Vantagepoint refused DELETE, so the activity is marked.
   */
  state: 'creating' | 'synced' | 'removed';
  activityId: string | null;
  /** the event's changeKey when last written; an unchanged one writes nothing */
  changeKey: string | null;
  /** digest of the fields last written (domain/events.ts#activityDigest) */
  digest: string | null;
  /** the reference left in the activity's Notes (domain/events.ts#syncReference) */
  reference: string;
  /** when the create was intended (creating) */
  intentAt: string | null;
  /** the Subject last written (to mark the activity if Vantagepoint refuses DELETE) */
  subject: string;
  lastSyncedAt: string;
  etag: string;
}

export interface ActivityLinkStore {
  get(employeeId: string, eventId: string): Promise<ActivityLink | null>;
  /** Create (etag null; ConflictError when one exists) or replace under etag (PreconditionFailedError). */
  save(link: Omit<ActivityLink, 'etag'>, etag: string | null): Promise<ActivityLink>;
  /** Under etag; a row already gone is fine. */
  delete(employeeId: string, eventId: string, etag: string): Promise<void>;
  listForUser(employeeId: string, page: PageRequest): Promise<Page<ActivityLink>>;
}

/** Per-user counters and last outcome of the data sync (the why view's data step). */
export interface DataSyncState {
  employeeId: string;
  created: number;
  updated: number;
  deleted: number;
  skipped: number;
  failed: number;
  lastItem: { eventId: string; outcome: string; at: string; requestId: string } | null;
  lastError: { code: string; message: string; at: string } | null;
  /** calendarView/delta: where the next round starts, and the window it covers */
  delta: DeltaState | null;
  /** a catch-up was queued (first sight of the user): no second one is queued meanwhile */
  catchUpRequestedAt: string | null;
  updatedAt: string;
  etag: string;
}
export interface DeltaState {
  deltaLink: string;
  windowStart: string;
  windowEnd: string;
  completedAt: string;
}
export interface DataSyncStateStore {
  get(employeeId: string): Promise<DataSyncState | null>;
  save(state: Omit<DataSyncState, 'etag'>, etag: string | null): Promise<DataSyncState>;
}

/** A failure with a reason the sync cannot get past on its own (counted by the members list and connect status). */
export interface SyncIssue {
  employeeId: string;
  /** the event it concerns, or null for the user as a whole */
  eventId: string | null;
  code: string;
  message: string;
  at: string;
  requestId: string;
}
export interface SyncIssueStore {
  put(issue: SyncIssue): Promise<void>;
  /** no-op when there is none */
  resolve(employeeId: string, eventId: string | null): Promise<void>;
  listForUser(employeeId: string): Promise<SyncIssue[]>;
  /** how many open issues, and for how many users (connect status) */
  count(): Promise<{ issues: number; users: number }>;
  /** open issues per employee, for a page of members */
  countFor(employeeIds: string[]): Promise<Map<string, number>>;
}

// ---------------------------------------------------------------- mailbox events (Graph)

export type EventRead =
  | { found: true; event: import('./domain/events').CalendarEvent }
  | { found: false };

export interface DeltaPage {
  events: import('./domain/events').CalendarEvent[];
  /** ids reported under @removed (deleted, or changed outside the window) */
  removed: string[];
  /** follow this for the rest of the round */
  nextLink: string | null;
  /** the round is complete: keep this for the next round */
  deltaLink: string | null;
}

export interface EventReader {
  /** GET /users/{mailbox}/events/{id} in UTC with a plain-text body. */
  get(mailbox: string, eventId: string): Promise<EventRead>;
  /** One page of calendarView/delta: a new round over [start, end), or a nextLink/deltaLink. */
  delta(mailbox: string, from: { link: string } | { start: string; end: string }): Promise<DeltaPage>;
}

// ---------------------------------------------------------------- Vantagepoint activities

export type ActivityWriteResult =
  | { ok: true; activityId: string }
  | {
      ok: false;
      /** gone: no such activity; permanent: Vantagepoint refused (4xx) — a sync issue; transient: retry later */
      failure: 'gone' | 'permanent' | 'transient';
      status: number;
      code: string;
      message: string;
      retryAfterMs?: number;
    };

export type ActivityTypeCheck = { known: true } | { known: false; message: string } | { known: 'unverifiable'; message: string };

export interface ActivityWriter {
  /** POST /api/activity (startWorkflow=N, dvp-applicationId: Activity). */
  create(fields: import('./domain/events').ActivityFields): Promise<ActivityWriteResult>;
  /** PUT /api/activity/{id}: a partial update. */
  update(activityId: string, fields: Partial<import('./domain/events').ActivityFields>): Promise<ActivityWriteResult>;
  /** DELETE /api/activity/{id}; `refused` when Vantagepoint does not allow it (then the caller marks the activity). */
  remove(activityId: string): Promise<ActivityWriteResult | { ok: false; failure: 'refused'; status: number; code: string; message: string }>;
  /** An activity carrying our reference line in its Notes, created since `since` (the orphan of a crash). */
  findByReference(reference: string, owner: string, since: string): Promise<string | null>;
  /** Does ACTIVITY_TYPE exist in CFGActivityType? */
  checkActivityType(type: string): Promise<ActivityTypeCheck>;
}
