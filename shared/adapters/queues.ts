import { QueueClient, QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';
import { ValidationError } from '../errors';
import type { ChangeQueue, DeliveryQueue, NoticeQueue, ReconcileQueue } from '../ports';
import { storageCall } from './tables/failures';
import type { StorageTarget } from './tables/target';

/** Storage queue messages are at most 64 KiB; the text is sent as is (host.json: messageEncoding "none"). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9](-?[a-z0-9])+$/;

/** Few, quick tries: a producer behind an HTTP request must answer 503 promptly when storage is down. */
const QUEUE_OPTIONS: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 10_000 },
};

export function checkQueueName(name: string): string {
  if (!QUEUE_NAME.test(name)) throw new Error(`'${name}' is not a valid storage queue name`);
  return name;
}

/** A client for one queue (also used by the development host's queue trigger). */
export function createQueueClient(target: StorageTarget, name: string): QueueClient {
  checkQueueName(name);
  if ('connectionString' in target) {
    return QueueServiceClient.fromConnectionString(target.connectionString, QUEUE_OPTIONS).getQueueClient(name);
  }
  return new QueueClient(`${target.queueServiceUri.replace(/\/+$/, '')}/${name}`, target.credential, QUEUE_OPTIONS);
}

/** Creates the queue if needed; idempotent. */
export function ensureQueue(client: QueueClient): Promise<void> {
  return storageCall(`create queue ${client.name}`, () => client.createIfNotExists().then(() => undefined));
}

/** Storage queues hide a message for at most 7 days. */
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

/** Sends one JSON message as plain text; a delay keeps it invisible that long (a scheduled retry). */
export async function sendJson(client: QueueClient, message: unknown, delaySeconds = 0): Promise<void> {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) {
    throw new ValidationError([{ field: 'message', message: `is larger than the ${MAX_MESSAGE_BYTES}-byte queue message limit` }]);
  }
  const visibilityTimeout = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
  await storageCall(`send to ${client.name}`, () => client.sendMessage(text, visibilityTimeout > 0 ? { visibilityTimeout } : {}));
}

export function createReconcileQueue(client: QueueClient): ReconcileQueue {
  return { request: (message, options) => sendJson(client, message, options?.delaySeconds) };
}

export function createChangeQueue(client: QueueClient): ChangeQueue {
  return { publish: (message, options) => sendJson(client, message, options?.delaySeconds ?? 0) };
}

export function createNoticeQueue(client: QueueClient): NoticeQueue {
  return { publish: (message, delaySeconds) => sendJson(client, message, delaySeconds) };
}

/** The messages of one delivery go out at once: one round trip whatever their number. */
export function createDeliveryQueue(client: QueueClient): DeliveryQueue {
  return { persist: async (messages) => void (await Promise.all(messages.map((m) => sendJson(client, m)))) };
}
