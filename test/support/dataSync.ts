import { QueueServiceClient } from '@azure/storage-queue';
import { startGraphEmulator, GRAPH_EMULATOR_DEFAULTS, type GraphEmulator } from '../../dev/emulators/graph/server';
import { startVantagepointEmulator, LOCAL_CLIENT_SECRET, type VantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { createEventReader } from '../../shared/adapters/graph/events';
import { createSecretSource } from '../../shared/adapters/secrets';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { createActivityWriter } from '../../shared/adapters/vantagepoint/activities';
import { ChangeMessage } from '../../shared/api/notifications';
import { parseConfig, type Config } from '../../shared/config';
import type { Group, Member } from '../../shared/domain/model';
import { QUEUES } from '../../shared/functionRegistry';
import type { ActivityTypeCheck, ActivityWriter } from '../../shared/ports';
import type { DataSyncDeps } from '../../shared/operations/dataSync/context';
import { handleChangeMessage } from '../../shared/operations/dataSync/consume';
import { collectingLog, drainQueue, mailboxOf, uniqueSuffix } from './reconcile';

/**
 * The data-sync consumer on real adapters: Azurite (a table and queue prefix of its own), the
 * Graph emulator (mailbox calendars) and the Vantagepoint emulator (Activities hub), in this process.
 */
export interface DataSyncHarness {
  config: Config;
  storage: Storage;
  deps: DataSyncDeps;
  graph: GraphEmulator;
  vantagepoint: VantagepointEmulator;
  log: ReturnType<typeof collectingLog>;
  /** a member of an enabled group (syncing: pending), mailbox = mailboxOf(id) */
  addSyncingUser(employeeId: string): Promise<Group>;
  setGroupSync(group: Group, sync: Group['sync']): Promise<void>;
  message(employeeId: string, change: { eventId?: string | null; changeType?: string | null; kind?: 'change' | 'resync'; resource?: 'events' | 'contacts' | 'messages' }): ChangeMessage;
  consume(message: unknown, now?: () => Date): Promise<void>;
  /** messages the consumer put back on mail-changes (scheduled retries, catch-up requests); received and deleted */
  takeQueued(): Promise<Array<ChangeMessage & { attempt?: number }>>;
  /** messages on mail-changes including those still invisible (scheduled retries) */
  queuedCount(): Promise<number>;
  /** the activities in the Vantagepoint emulator */
  activities(): Array<Record<string, string | number>>;
  /** Vantagepoint write requests so far */
  writes(): number;
  stop(): Promise<void>;
}

export async function startDataSyncHarness(options: { settings?: Record<string, string>; wrapWriter?: (w: ActivityWriter) => ActivityWriter } = {}): Promise<DataSyncHarness> {
  const connection = process.env.TEST_STORAGE_CONNECTION;
  if (!connection) throw new Error('TEST_STORAGE_CONNECTION is not set: run under jest');
  const graph = await startGraphEmulator({ port: 0 });
  const vantagepoint = await startVantagepointEmulator({ port: 0 });
  const suffix = uniqueSuffix();
  const env = {
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: connection,
    VANTAGEPOINT_BASE_URL: vantagepoint.url,
    VANTAGEPOINT_CLIENT_ID: 'connect-local',
    VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
    VANTAGEPOINT_CLIENT_SECRET: LOCAL_CLIENT_SECRET,
    VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
    GRAPH_BASE_URL: `${graph.url}/v1.0`,
    GRAPH_AUTHORITY_HOST: graph.url,
    GRAPH_TENANT_ID: GRAPH_EMULATOR_DEFAULTS.tenantId,
    GRAPH_CLIENT_ID: GRAPH_EMULATOR_DEFAULTS.clientId,
    GRAPH_CLIENT_SECRET_NAME: 'graph-client-secret',
    GRAPH_CLIENT_SECRET: GRAPH_EMULATOR_DEFAULTS.clientSecret,
    GRAPH_NOTIFICATION_URL: 'http://127.0.0.1:1/api/notifications/graph',
    ...options.settings,
  };
  const config = parseConfig(env);
  const secrets = createSecretSource(config, { env });
  const storage = createStorage({ connectionString: connection }, { tablePrefix: `D${suffix}`, queuePrefix: `d${suffix}-` });
  await storage.ensureReady();
  const writer = createActivityWriter(config, secrets);
  const activities = options.wrapWriter ? options.wrapWriter(writer) : writer;
  let typeCheck: Promise<ActivityTypeCheck> | undefined;
  const deps: DataSyncDeps = {
    config,
    storage,
    events: createEventReader(config, secrets),
    activities,
    activityType: () => (typeCheck ??= writer.checkActivityType(config.ACTIVITY_TYPE)),
  };
  const changes = QueueServiceClient.fromConnectionString(connection).getQueueClient(`d${suffix}-${QUEUES.changes}`);
  const log = collectingLog();

  return {
    config,
    storage,
    deps,
    graph,
    vantagepoint,
    log,
    async addSyncingUser(employeeId) {
      const at = new Date().toISOString();
      const id = `g-${uniqueSuffix()}`;
      const group = await storage.groups.create({ id, name: `Group ${id}`, description: '', mailboxAccess: 'office365', sync: 'enabled', syncChangedAt: at, createdAt: at, updatedAt: at, updatedBy: 'test' });
      const member: Member = { groupId: id, employeeId, name: employeeId, email: mailboxOf(employeeId), prerequisite: null, prerequisiteMessage: '', checkedAt: at, addedAt: at, addedBy: 'test' };
      await storage.members.add(id, [member], { move: false });
      return group;
    },
    async setGroupSync(group, sync) {
      const current = await storage.groups.get(group.id);
      if (!current) throw new Error('no such group');
      await storage.groups.update(group.id, { sync, syncChangedAt: new Date().toISOString() }, current.etag);
    },
    message(employeeId, change) {
      const kind = change.kind ?? 'change';
      return ChangeMessage.parse({
        schema: 'connect-sync.change/1',
        kind,
        employeeId,
        groupId: null,
        resource: change.resource ?? 'events',
        subscriptionId: 'sub-test',
        changeType: kind === 'resync' ? null : (change.changeType ?? 'updated'),
        resourcePath: kind === 'resync' ? null : `Users/${mailboxOf(employeeId)}/Events/${change.eventId ?? ''}`,
        resourceId: kind === 'resync' ? null : (change.eventId ?? null),
        tenantId: GRAPH_EMULATOR_DEFAULTS.tenantId,
        receivedAt: new Date().toISOString(),
        requestId: `req-${uniqueSuffix()}`,
      });
    },
    consume(message, now = () => new Date()) {
      return handleChangeMessage(deps, message, { log: log.log, now });
    },
    async takeQueued() {
      return (await drainQueue(changes)) as Array<ChangeMessage & { attempt?: number }>;
    },
    async queuedCount() {
      return (await changes.getProperties()).approximateMessagesCount ?? 0;
    },
    activities: () => vantagepoint.activities.all(),
    writes: () => vantagepoint.activities.requests.length,
    async stop() {
      await changes.deleteIfExists();
      await graph.stop();
      await vantagepoint.stop();
    },
  };
}

/** A Graph event body for the emulator's control routes / calendars, tomorrow at 09:00 UTC unless told. */
export function meetingBody(subject: string, extra: Record<string, unknown> = {}): Record<string, unknown> & { start: { dateTime: string; timeZone: string }; end: { dateTime: string; timeZone: string } } {
  const start = new Date(Date.now() + 86_400_000);
  start.setUTCHours(9, 0, 0, 0);
  const end = new Date(start.getTime() + 3_600_000);
  return {
    subject,
    body: { contentType: 'text', content: `Agenda: ${subject}` },
    start: { dateTime: start.toISOString().slice(0, 19), timeZone: 'UTC' },
    end: { dateTime: end.toISOString().slice(0, 19), timeZone: 'UTC' },
    categories: ['Vantagepoint'],
    ...extra,
  };
}
