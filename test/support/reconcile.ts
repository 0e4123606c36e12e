import { randomBytes } from 'node:crypto';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import {
  GRAPH_EMULATOR_DEFAULTS,
  startGraphEmulator,
  startNotificationReceiver,
  type EmulatedSubscription,
  type GraphEmulator,
  type NotificationReceiver,
} from '../../dev/emulators/graph/server';
import { createMailProvider, type MailProviderOptions } from '../../shared/adapters/graph';
import { clientStateKeysFor, createSecretSource } from '../../shared/adapters/secrets';
import { offlineSettings } from './offline';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { ChangeMessage } from '../../shared/api/notifications';
import { parseConfig, type Config } from '../../shared/config';
import type { Group, Member } from '../../shared/domain/model';
import { QUEUES } from '../../shared/functionRegistry';
import type { Log, RequestContext } from '../../shared/http/endpoint';
import type { ReconcileOptions } from '../../shared/operations/reconcile';
import type { ClientStateKeys, MailProvider, NoticeMessage, ReconcileRequest } from '../../shared/ports';

/**
 * Helpers for the reconciler and notification tests (test/e2e): bounded polling,
 * reading the change and reconcile queues, and an in-process harness of real adapters
 * (Azurite tables and queues under a unique prefix, the Graph emulator, a stand-in
 * notification endpoint) with an injectable clock.
 */

/**
 * Polls `probe` until it returns something other than undefined; bounded attempts, short waits.
 * The bound (30 s) is a hang detector, not a speed claim: a machine loaded by parallel suites
 * can take several seconds through the queues, and speed is the benchmarks' job.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, attempts = 300, waitMs = 100): Promise<T> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  throw new Error(`never happened after ${attempts} attempts: ${what}`);
}

/** Receives and deletes every message currently in a queue, parsed as JSON. */
export async function drainQueue(queue: QueueClient): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    if (receivedMessageItems.length === 0) return out;
    for (const message of receivedMessageItems) {
      out.push(JSON.parse(message.messageText) as unknown);
      await queue.deleteMessage(message.messageId, message.popReceipt);
    }
  }
}

/** The change queue the data-sync consumer reads, as the stack's functions write it. */
export function changeQueueOf(connectionString: string, prefix = ''): { drain(): Promise<ChangeMessage[]> } {
  const queue = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(`${prefix}${QUEUES.changes}`);
  return {
    async drain() {
      // Every message must match the documented schema (docs/CHANGE-QUEUE.md).
      return (await drainQueue(queue)).map((m) => ChangeMessage.parse(m));
    },
  };
}

export const mailboxOf = (employeeId: string): string => `${employeeId.toLowerCase()}@contoso.test`;
export const uniqueSuffix = (): string => randomBytes(4).toString('hex');

/** Log lines collected in memory: events by name, for assertions on what the operations reported. */
export function collectingLog(): { log: Log; events: Array<{ event: string; fields: Record<string, unknown> }> } {
  const events: Array<{ event: string; fields: Record<string, unknown> }> = [];
  return { log: (event, fields = {}) => events.push({ event, fields }), events };
}

/** A clock that stands still until the test moves it; the reconciler reads it through `now`. */
export class TestClock {
  private readonly startMs = Date.now();
  private offsetMs = 0;
  now = (): Date => new Date(this.startMs + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  /** Moves to just after `iso` (e.g. past a backoff's nextRetryAt). */
  passTo(iso: string): void {
    const behind = Date.parse(iso) - this.now().getTime();
    if (behind >= 0) this.offsetMs += behind + 1000;
  }
}

export interface Harness {
  config: Config;
  storage: Storage;
  mail: MailProvider;
  deps: { config: Config; storage: Storage; mail: MailProvider; clientStateKeys: ClientStateKeys };
  graph: GraphEmulator;
  receiver: NotificationReceiver;
  clock: TestClock;
  /** options for reconcileUser / reconcileGroup / handleReconcileRequest, on the test clock */
  options(deadline?: number): ReconcileOptions;
  /** a request context for operations such as forceUserSync, on the test clock */
  context(): RequestContext;
  /** an office365 group with these members (email = mailboxOf(id) unless a prerequisite fails) */
  addGroup(sync: Group['sync'], members: Array<{ employeeId: string; prerequisite?: Member['prerequisite'] }>): Promise<Group>;
  /** the emulator's live subscriptions for one employee's mailbox */
  liveFor(employeeId: string): EmulatedSubscription[];
  /** reconcile requests waiting in this harness's queue (received and deleted) */
  takeReconcileRequests(): Promise<ReconcileRequest[]>;
  /** notices waiting in this harness's notification outbox (received and deleted) */
  queuedReconcileRequests(): Promise<number>;
  takeNotices(): Promise<NoticeMessage[]>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  settings?: Record<string, string>;
  provider?: MailProviderOptions;
}

/** Real adapters on Azurite (unique table and queue prefix) and the Graph emulator started here. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const connection = process.env.TEST_STORAGE_CONNECTION;
  if (!connection) throw new Error('TEST_STORAGE_CONNECTION is not set: run under jest');
  const receiver = await startNotificationReceiver();
  const graph = await startGraphEmulator({ port: 0, allowHttpNotificationUrls: true });
  const suffix = uniqueSuffix();
  const env = offlineSettings(connection, {
    GRAPH_BASE_URL: `${graph.url}/v1.0`,
    GRAPH_AUTHORITY_HOST: graph.url,
    GRAPH_TENANT_ID: GRAPH_EMULATOR_DEFAULTS.tenantId,
    GRAPH_CLIENT_ID: GRAPH_EMULATOR_DEFAULTS.clientId,
    GRAPH_CLIENT_SECRET: GRAPH_EMULATOR_DEFAULTS.clientSecret,
    GRAPH_NOTIFICATION_URL: receiver.url,
    ...options.settings,
  });

  const config = parseConfig(env);
  const storage = createStorage({ connectionString: connection }, { tablePrefix: `R${suffix}`, queuePrefix: `r${suffix}-` });
  await storage.ensureReady();
  const secrets = createSecretSource(config, { env });
  const mail = createMailProvider(config, secrets, options.provider);
  const clientStateKeys = clientStateKeysFor(config, secrets);
  const reconcileQueue = QueueServiceClient.fromConnectionString(connection).getQueueClient(`r${suffix}-${QUEUES.reconcile}`);
  const noticeQueue = QueueServiceClient.fromConnectionString(connection).getQueueClient(`r${suffix}-${QUEUES.notices}`);
  const clock = new TestClock();
  const log: Log = () => undefined;

  return {
    config,
    storage,
    mail,
    deps: { config, storage, mail, clientStateKeys },
    graph,
    receiver,
    clock,
    options: (deadline = Number.MAX_SAFE_INTEGER) => ({ now: clock.now, log, deadline }),
    context: () => ({ requestId: `test-${uniqueSuffix()}`, invocationId: 'test', caller: null, log, now: clock.now() }),
    async addGroup(sync, members) {
      const at = clock.now().toISOString();
      const id = `g-${uniqueSuffix()}`;
      const group = await storage.groups.create({
        id,
        name: `Group ${id}`,
        description: '',
        mailboxAccess: 'office365',
        sync,
        syncChangedAt: at,
        createdAt: at,
        updatedAt: at,
        updatedBy: 'test',
      });
      const rows: Member[] = members.map(({ employeeId, prerequisite = null }) => ({
        groupId: id,
        employeeId,
        name: employeeId,
        email: prerequisite === 'INVALID_EMAIL' ? '' : mailboxOf(employeeId),
        prerequisite,
        prerequisiteMessage: prerequisite ? `${prerequisite} (test)` : '',
        checkedAt: at,
        addedAt: at,
        addedBy: 'test',
      }));
      await storage.members.add(id, rows, { move: false });
      return group;
    },
    liveFor: (employeeId) => graph.subscriptions().filter((s) => s.mailbox === mailboxOf(employeeId)),
    async takeReconcileRequests() {
      return (await drainQueue(reconcileQueue)) as ReconcileRequest[];
    },
    /** messages in the reconcile queue, delayed ones included */
    async queuedReconcileRequests() {
      return (await reconcileQueue.getProperties()).approximateMessagesCount ?? 0;
    },
    async takeNotices() {
      return (await drainQueue(noticeQueue)) as NoticeMessage[];
    },
    async stop() {
      await graph.stop();
      await receiver.stop();
      await Promise.all([reconcileQueue.deleteIfExists(), noticeQueue.deleteIfExists(), changeQueueClient(connection, suffix).deleteIfExists()]);
    },
  };
}

function changeQueueClient(connection: string, suffix: string): QueueClient {
  return QueueServiceClient.fromConnectionString(connection).getQueueClient(`r${suffix}-${QUEUES.changes}`);
}
