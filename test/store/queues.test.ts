import { randomBytes } from 'node:crypto';
import { createQueueClient } from '../../shared/adapters/queues';
import { createStorage } from '../../shared/adapters/tables';
import { freePort } from '../../dev/support/ports';
import { QUEUES } from '../../shared/functionRegistry';
import { ServiceUnavailableError, ValidationError } from '../../shared/errors';

const target = { connectionString: process.env.TEST_STORAGE_CONNECTION as string };

describe('queues', () => {
  it('sends plain JSON text (no base64) that a receiver reads back', async () => {
    const prefix = `q${randomBytes(4).toString('hex')}-`;
    const storage = createStorage(target, { tablePrefix: `que${randomBytes(4).toString('hex')}`, queuePrefix: prefix });
    await storage.ensureReady();
    const request = { groupId: 'g1', reason: 'test', requestId: 'r1', partialCounts: { active: 2 } };
    await storage.reconcileQueue.request(request);
    await storage.changeQueue.publish({ kind: 'change', subscriptionId: 's1' });

    const reconcile = createQueueClient(target, prefix + QUEUES.reconcile);
    const received = await reconcile.receiveMessages({ numberOfMessages: 5 });
    expect(received.receivedMessageItems.map((m) => JSON.parse(m.messageText))).toEqual([request]);
    const changes = await createQueueClient(target, prefix + QUEUES.changes).receiveMessages();
    expect(changes.receivedMessageItems[0]?.messageText).toBe('{"kind":"change","subscriptionId":"s1"}');
  });

  it('refuses a message over the 64 KiB queue limit', async () => {
    const storage = createStorage(target, { tablePrefix: `qbg${randomBytes(4).toString('hex')}`, queuePrefix: `b${randomBytes(4).toString('hex')}-` });
    await storage.ensureReady();
    await expect(storage.changeQueue.publish({ body: 'x'.repeat(70_000) })).rejects.toBeInstanceOf(ValidationError);
  });

  it('accepts UseDevelopmentStorage=true (Azurite default endpoints)', () => {
    expect(createQueueClient({ connectionString: 'UseDevelopmentStorage=true' }, 'reconcile-requests').url).toBe('http://127.0.0.1:10001/devstoreaccount1/reconcile-requests');
    expect(() => createStorage({ connectionString: 'UseDevelopmentStorage=true' })).not.toThrow();
  });

  it('rejects invalid prefixed names', () => {
    expect(() => createStorage(target, { tablePrefix: '1bad' })).toThrow(/table name/);
    expect(() => createStorage(target, { queuePrefix: 'Bad_' })).toThrow(/queue name/);
  });
});

describe('storage unreachable', () => {
  it('maps refused connections to ServiceUnavailableError(storage) and lets ensureReady retry', async () => {
    const port = await freePort(); // nothing listens there
    const down = createStorage({
      connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('k').toString('base64')};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    });
    const err = await down.groups.get('g1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as ServiceUnavailableError).dependency).toBe('storage');
    await expect(down.reconcileQueue.request({ reason: 'x', requestId: 'r' })).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(down.ensureReady()).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(down.ensureReady()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
