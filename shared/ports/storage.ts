/** Table Storage: groups, members, status, holds, leases, subscriptions, audit. */
import type { AuditEntry, Group, MailResource, Member, MemberPrerequisiteCode, StatusCounts, Subscription, SyncSwitch, UserState } from '../domain/model';

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
  /** how many removals the administrator saw when confirming (null: kept before counts were) */
  count: number | null;
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
