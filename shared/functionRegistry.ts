import {
  app,
  type HttpFunctionOptions,
  type StorageQueueFunctionOptions,
  type TimerFunctionOptions,
} from '@azure/functions';

/**
 * Every function file registers through here. Outside the Functions host `app.*`
 * silently skips registration ("test mode"), so the definitions are also kept in
 * this list, which the development host (dev/host.ts) serves: same names, routes,
 * methods, auth levels, schedules and queues as Azure.
 */
export type FunctionDefinition =
  | { kind: 'http'; name: string; options: HttpFunctionOptions }
  | { kind: 'timer'; name: string; options: TimerFunctionOptions }
  | { kind: 'storageQueue'; name: string; options: StorageQueueFunctionOptions };

const definitions: FunctionDefinition[] = [];

export function defineHttp(name: string, options: HttpFunctionOptions): void {
  definitions.push({ kind: 'http', name, options });
  app.http(name, options);
}

export function defineTimer(name: string, options: TimerFunctionOptions): void {
  definitions.push({ kind: 'timer', name, options });
  app.timer(name, options);
}

export function defineStorageQueue(name: string, options: StorageQueueFunctionOptions): void {
  definitions.push({ kind: 'storageQueue', name, options });
  app.storageQueue(name, options);
}

export function registeredFunctions(): readonly FunctionDefinition[] {
  return definitions;
}

/** Work the app does once when a host starts (Azure: `app.hook.appStart`); errors are the hook's own to log. */
export type StartHook = { name: string; run: () => Promise<void> };
const startHooks: StartHook[] = [];

export function defineAppStart(name: string, run: () => Promise<void>): void {
  startHooks.push({ name, run });
  app.hook.appStart(() => run());
}

export function registeredStartHooks(): readonly StartHook[] {
  return startHooks;
}

/** Queue names shared by producers, triggers and infra/. */
export const QUEUES = {
  reconcile: 'reconcile-requests',
  changes: 'mail-changes',
  /** Graph deliveries as the webhook persisted them, before the syncing check (docs/CHANGE-QUEUE.md) */
  deliveries: 'graph-deliveries',
  /** notification emails on their way out (the outbox) */
  notices: 'notification-mail',
} as const;

/** Table names shared by stores and infra/. */
export const TABLES = {
  groups: 'Groups',
  members: 'Members',
  memberships: 'Memberships',
  userState: 'UserState',
  subscriptions: 'Subscriptions',
  subscriptionIndex: 'SubscriptionIndex',
  audit: 'Audit',
  graphWriters: 'GraphWriters',
  sessions: 'AdminSessions',
  /** data sync: (employee, event) → activity, and each user's data-sync state */
  activityLinks: 'ActivityLinks',
  syncIssues: 'SyncIssues',
  settings: 'Settings',
  mailLog: 'MailLog',
} as const;
