import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { storageCall } from '../../shared/adapters/tables/failures';
import { QUEUES, TABLES } from '../../shared/functionRegistry';
import { ServiceUnavailableError } from '../../shared/errors';

/**
 * Storage that comes back empty (an in-memory Azurite restarted, a table deleted by mistake)
 * while the functions keep running: the first call that needs a missing table or queue
 * recreates it and goes through; nothing answers 500 TableNotFound until a restart.
 */
const connection = process.env.TEST_STORAGE_CONNECTION as string;
const tag = randomBytes(4).toString('hex');
let storage: Storage;

beforeAll(async () => {
  storage = createStorage({ connectionString: connection }, { tablePrefix: `Rec${tag}`, queuePrefix: `rec${tag}-` });
  await storage.ensureReady();
});

const at = '2025-01-01T00:00:00.000Z';
const group = (id: string) => ({ id, name: `Group ${id}`, description: '', mailboxAccess: 'office365' as const, sync: 'disabled' as const, syncChangedAt: at, createdAt: at, updatedAt: at, updatedBy: 'test' });

it('recreates a deleted table the first time it is needed again, and the call succeeds', async () => {
  await storage.groups.create(group('before'));
  await TableClient.fromConnectionString(connection, `Rec${tag}${TABLES.groups}`, { allowInsecureConnection: true }).deleteTable();
  // a read of the lost table answers "no such group", not a 500
  expect(await storage.groups.get('before')).toBeNull();
  // and a write goes through on the recreated table
  await storage.groups.create(group('after'));
  expect((await storage.groups.get('after'))?.id).toBe('after');
});

it('recreates a deleted queue the first time a message is sent to it', async () => {
  const queue = QueueServiceClient.fromConnectionString(connection).getQueueClient(`rec${tag}-${QUEUES.reconcile}`);
  await queue.delete();
  await storage.reconcileQueue.request({ groupId: 'after', reason: 'test', requestId: 'r1' });
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1 });
  expect(JSON.parse(receivedMessageItems[0]?.messageText ?? '{}')).toMatchObject({ groupId: 'after' });
});

it('answers 503 (retry helps), never a server fault, when the table is still missing after the recreation', async () => {
  const missing = Object.assign(new Error('The table specified does not exist.'), { statusCode: 404, code: 'TableNotFound' });
  const call = storageCall('read forever missing', () => Promise.reject(missing), { 404: () => null });
  await expect(call).rejects.toBeInstanceOf(ServiceUnavailableError);
});
