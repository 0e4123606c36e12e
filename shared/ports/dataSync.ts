/** Data sync: mailbox events (Graph) to Vantagepoint activities. */
import type { ActivityFields, CalendarEvent } from '../domain/events';
import type { Page, PageRequest } from './storage';

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
  | { found: true; event: CalendarEvent }
  | { found: false };

export interface DeltaPage {
  events: CalendarEvent[];
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
  create(fields: ActivityFields): Promise<ActivityWriteResult>;
  /** PUT /api/activity/{id}: a partial update. */
  update(activityId: string, fields: Partial<ActivityFields>): Promise<ActivityWriteResult>;
  /** DELETE /api/activity/{id}; `refused` when Vantagepoint does not allow it (then the caller marks the activity). */
  remove(activityId: string): Promise<ActivityWriteResult | { ok: false; failure: 'refused'; status: number; code: string; message: string }>;
  /** An activity carrying our reference line in its Notes, created since `since` (the orphan of a crash). */
  findByReference(reference: string, owner: string, since: string): Promise<string | null>;
  /** Does ACTIVITY_TYPE exist in CFGActivityType? */
  checkActivityType(type: string): Promise<ActivityTypeCheck>;
}
