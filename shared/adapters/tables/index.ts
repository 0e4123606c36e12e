import type { TableClient } from '@azure/data-tables';
import { QUEUES, TABLES } from '../../functionRegistry';
import type {
  AuditLog,
  GraphAccessStore,
  ActivityLinkStore,
  ChangeQueue,
  DeliveryQueue,
  DataSyncStateStore,
  SyncIssueStore,
  GroupStore,
  IncidentStore,
  MailHealthStore,
  MailLog,
  MemberStore,
  NoticeQueue,
  PassLeaseStore,
  ReconcileQueue,
  SessionRevocations,
  SignInFailureStore,
  RemovalConfirmationStore,
  SettingsStore,
  StatusSummaryStore,
  SubscriptionStore,
  UserStateStore,
} from '../../ports';
import { checkQueueName, createChangeQueue, createDeliveryQueue, createNoticeQueue, createQueueClient, createReconcileQueue, ensureQueue } from '../queues';
import { createAuditLog } from './audit';
import { onMissingResource, storageCall } from './failures';
import { createGroupStore } from './groups';
import { createMemberStore } from './members';
import { createGraphAccessStore } from './graphAccess';
import { createWriterRegistry } from './graphWriters';
import { createIncidentStore } from './incidents';
import { createMailLog } from './mailLog';
import { createPassLeaseStore } from './passLeases';
import { createSessionRevocations, createSignInFailureStore } from './sessions';
import { createMailHealthStore, createSettingsStore } from './settings';
import type { WriterRegistry } from '../graph/share';
import { createRemovalConfirmationStore, createStatusSummaryStore } from './statusSummaries';
import { createSubscriptionStore } from './subscriptions';
import { tableClient, type StorageTarget } from './target';
import { createUserStateStore } from './userState';
import { createActivityLinkStore, createDataSyncStateStore } from './activityLinks';
import { createSyncIssueStore } from './syncIssues';
import { onceSucceeded } from '../../util/singleFlight';

export { storageTargetFromConfig, type StorageTarget } from './target';

export interface Storage {
  groups: GroupStore;
  members: MemberStore;
  statusSummaries: StatusSummaryStore;
  /** administrators' confirmations of held removals (the mass-removal guard) */
  removalConfirmations: RemovalConfirmationStore;
  passLeases: PassLeaseStore;
  /** instances writing to Graph, so each takes its share of the tenant's write limit */
  graphWriters: WriterRegistry;
  /** instances listing Graph's subscriptions (the repair job), sharing the tenant's list limit the same way */
  graphListers: WriterRegistry;
  /** the organisation's Graph access (the breaker's one row) */
  graphAccess: GraphAccessStore;
  userState: UserStateStore;
  subscriptions: SubscriptionStore;
  audit: AuditLog;
  /** signed-out admin sessions */
  sessionRevocations: SessionRevocations;
  /** failed sign-ins per username and per client address */
  signInFailures: SignInFailureStore;
  reconcileQueue: ReconcileQueue;
  changeQueue: ChangeQueue;
  /** Graph deliveries persisted by the webhook (its one storage round trip) */
  deliveryQueue: DeliveryQueue;
  /** data sync (Outlook events → Vantagepoint activities) */
  activityLinks: ActivityLinkStore;
  dataSyncState: DataSyncStateStore;
  syncIssues: SyncIssueStore;
  /** the Settings tab (notification list, mass-removal threshold) */
  settings: SettingsStore;
  /** how notification emails went lately (connect status) */
  mailHealth: MailHealthStore;
  /** which notification emails were sent (de-duplication) */
  mailLog: MailLog;
  /** the notification outbox */
  noticeQueue: NoticeQueue;
  /** organisation-wide failures in progress (the Vantagepoint credential) */
  incidents: IncidentStore;
  /** creates tables and queues idempotently; call once per process (memoised) */
  ensureReady(): Promise<void>;
}

export interface StorageOptions {
  /** Prepended to every table name (tests isolate themselves with it). */
  tablePrefix?: string;
  /** Prepended to every queue name. */
  queuePrefix?: string;
  /** The clock claims are dated by (tests move it past the claim grace). */
  now?: () => number;
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

function checkTableName(name: string): string {
  if (!TABLE_NAME.test(name)) throw new Error(`'${name}' is not a valid table name`);
  return name;
}

export function createStorage(target: StorageTarget, options: StorageOptions = {}): Storage {
  const tables = Object.fromEntries(
    Object.entries(TABLES).map(([key, name]) => [key, tableClient(target, checkTableName(`${options.tablePrefix ?? ''}${name}`))]),
  ) as Record<keyof typeof TABLES, TableClient>;
  const queueName = (name: string) => checkQueueName(`${options.queuePrefix ?? ''}${name}`);
  const reconcile = createQueueClient(target, queueName(QUEUES.reconcile));
  const changes = createQueueClient(target, queueName(QUEUES.changes));
  const notices = createQueueClient(target, queueName(QUEUES.notices));
  const deliveries = createQueueClient(target, queueName(QUEUES.deliveries));

  // Storage that comes back empty (restarted in-memory Azurite, a table deleted by mistake) is
  // refilled the first time a call finds a table or queue missing: see storageCall.
  onMissingResource(() => prepare());
  const prepare = async () => {
    await Promise.all([
      ...Object.values(tables).map((t) => storageCall(`create table ${t.tableName}`, () => t.createTable())),
      ensureQueue(reconcile),
      ensureQueue(changes),
      ensureQueue(notices),
      ensureQueue(deliveries),
    ]);
  };

  const ensureReady = onceSucceeded(prepare);
  const groups = createGroupStore(tables.groups);
  return {
    groups,
    // a claim is backed only while its group exists and is not being deleted
    members: createMemberStore(tables.members, tables.memberships, async (groupId) => (await groups.get(groupId)) !== null, options.now),
    statusSummaries: createStatusSummaryStore(tables.members),
    removalConfirmations: createRemovalConfirmationStore(tables.members),
    passLeases: createPassLeaseStore(tables.members),
    graphWriters: createWriterRegistry(tables.graphWriters),
    graphListers: createWriterRegistry(tables.graphWriters, 'listers'),
    graphAccess: createGraphAccessStore(tables.graphWriters),
    userState: createUserStateStore(tables.userState),
    subscriptions: createSubscriptionStore(tables.subscriptions, tables.subscriptionIndex),
    audit: createAuditLog(tables.audit),
    sessionRevocations: createSessionRevocations(tables.sessions),
    signInFailures: createSignInFailureStore(tables.sessions),
    reconcileQueue: createReconcileQueue(reconcile),
    changeQueue: createChangeQueue(changes),
    deliveryQueue: createDeliveryQueue(deliveries),
    activityLinks: createActivityLinkStore(tables.activityLinks),
    dataSyncState: createDataSyncStateStore(tables.activityLinks),
    syncIssues: createSyncIssueStore(tables.syncIssues),
    settings: createSettingsStore(tables.settings),
    mailHealth: createMailHealthStore(tables.settings),
    mailLog: createMailLog(tables.mailLog),
    noticeQueue: createNoticeQueue(notices),
    incidents: createIncidentStore(tables.settings),
    ensureReady,
  };
}
