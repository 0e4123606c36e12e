import type { Log } from '../../logging';
import type { Config } from '../../config';
import type { Storage } from '../../adapters/tables';
import type { ActivityTypeCheck, ActivityWriter, EventReader } from '../../ports';

/** What the data sync reaches: our stores, the mailbox (Graph) and Vantagepoint's activities. */
export interface DataSyncDeps {
  config: Config;
  storage: Storage;
  events: EventReader;
  activities: ActivityWriter;
  /** the start-up check of ACTIVITY_TYPE (memoised per process) */
  activityType(): Promise<ActivityTypeCheck>;
}

export type { Log };

export interface DataSyncContext {
  /** the notification's request id (intake) — every log line of the item carries it */
  requestId: string;
  log: Log;
  now: () => Date;
}

/** The user whose mailbox is synced. */
export interface SyncUser {
  employeeId: string;
  mailbox: string;
}

/** One item's result, as counted in the why view and logged. */
export type ItemOutcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'skipped' | 'failed' | 'not_syncing';
