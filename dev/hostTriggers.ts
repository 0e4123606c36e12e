/** The development host's timer and storage-queue triggers, with the Functions host's schedules, batching, renewal and poison queues. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageQueueFunctionOptions, Timer, TimerFunctionOptions } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { describe } from '../shared/http/endpoint';
import { parseNcrontab } from './ncrontab';
import { hostLog, invocationContext, resolveSettings, type HostSettings, type LogSink, type QueueDefinition, type Stoppable, type TimerDefinition } from './hostSupport';

const MAX_POLL_MS = 1000;
/** A timer run starting this late counts as past due (the process was busy or asleep). */
const PAST_DUE_MS = 1000;
/** setTimeout's ceiling; longer waits are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;


export function startTimerTrigger(def: TimerDefinition, sink: LogSink): Stoppable {
  const options: TimerFunctionOptions = def.options;
  const schedule = parseNcrontab(resolveSettings(options.schedule));
  let running: Promise<void> | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastRun: Date | undefined;

  const fire = (scheduledFor: Date): void => {
    if (running) {
      // The Functions host never overlaps runs of one timer.
      hostLog(sink, 'warning', `timer ${def.name}: previous run still going, skipping ${scheduledFor.toISOString()}`);
      return;
    }
    const now = new Date();
    const timer: Timer = {
      isPastDue: now.getTime() - scheduledFor.getTime() > PAST_DUE_MS,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: (lastRun ?? now).toISOString(),
        next: schedule.next(now).toISOString(),
        lastUpdated: now.toISOString(),
      },
    };
    lastRun = now;
    running = invokeTimer(def, timer, sink).finally(() => {
      running = undefined;
    });
  };

  const armAt = (due: Date): void => {
    if (stopped) return;
    const wait = due.getTime() - Date.now();
    if (wait > MAX_TIMEOUT_MS) {
      timeout = setTimeout(() => armAt(due), MAX_TIMEOUT_MS);
      return;
    }
    timeout = setTimeout(() => {
      fire(due);
      // Missed occurrences are not replayed: the next one is counted from now.
      armAt(schedule.next(new Date(Math.max(due.getTime(), Date.now()))));
    }, Math.max(0, wait));
  };

  if (options.runOnStartup) fire(new Date());
  armAt(schedule.next(new Date()));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timeout);
      await running;
    },
  };
}

async function invokeTimer(def: TimerDefinition, timer: Timer, sink: LogSink): Promise<void> {
  const context = invocationContext(sink, def.name);
  try {
    await def.options.handler(timer, context);
  } catch (err) {
    // No retry, as on Azure: the next occurrence is the retry.
    context.error(`timer run failed: ${describe(err)}`);
  }
}

// ------------------------------------------------------------------ storage queue triggers

/**
 * Polls one queue as the Functions host does: up to batchSize messages at a time, handled
 * concurrently, and a new batch fetched as soon as only newBatchThreshold of them are still
 * running (a slow message never holds up the rest); a running message's invisibility is
 * renewed at half its timeout, so a long run is never delivered twice; delete on success,
 * visible again at once on failure, `<queue>-poison` after maxDequeueCount attempts. An
 * empty queue backs the interval off to MAX_POLL_MS. A queue that disappears (storage
 * restarted empty) is recreated.
 * The definition's `connection` names the app's storage setting, which locally is
 * the one account this host was given.
 */
export async function startQueueTrigger(
  def: QueueDefinition,
  service: QueueServiceClient,
  settings: HostSettings,
  minPollMs: number,
  sink: LogSink,
): Promise<Stoppable> {
  const options: StorageQueueFunctionOptions = def.options;
  const queueName = resolveSettings(options.queueName);
  const queue = service.getQueueClient(queueName);
  await queue.createIfNotExists();
  const trigger: QueueTrigger = { def, queue, poison: service.getQueueClient(`${queueName}-poison`), settings, sink };
  const abort = new AbortController();
  const loop = pollLoop(trigger, minPollMs, abort.signal);
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

interface QueueTrigger {
  def: QueueDefinition;
  queue: QueueClient;
  poison: QueueClient;
  settings: HostSettings;
  sink: LogSink;
}

async function pollLoop(trigger: QueueTrigger, minPollMs: number, signal: AbortSignal): Promise<void> {
  const maxPollMs = Math.max(MAX_POLL_MS, minPollMs);
  const running = new Set<Promise<void>>();
  let delay = minPollMs;
  while (!signal.aborted) {
    if (running.size > trigger.settings.newBatchThreshold) {
      await Promise.race(running);
      continue;
    }
    const messages = await receive(trigger);
    for (const message of messages) {
      const run: Promise<void> = processMessage(trigger, message).finally(() => running.delete(run));
      running.add(run);
    }
    delay = messages.length > 0 ? 0 : Math.min(maxPollMs, Math.max(minPollMs, delay * 2));
    if (delay > 0) await sleep(delay, undefined, { signal }).catch(() => undefined);
  }
  await Promise.all(running);
}

async function receive(trigger: QueueTrigger): Promise<DequeuedMessageItem[]> {
  try {
    const response = await trigger.queue.receiveMessages({
      numberOfMessages: trigger.settings.batchSize,
      visibilityTimeout: trigger.settings.visibilityTimeoutSeconds,
    });
    return response.receivedMessageItems;
  } catch (err) {
    hostLog(trigger.sink, 'warning', `queue ${trigger.queue.name}: receive failed: ${describe(err)}`);
    if ((err as { statusCode?: number }).statusCode === 404) await trigger.queue.createIfNotExists().catch(() => undefined);
    return [];
  }
}

async function processMessage(trigger: QueueTrigger, message: DequeuedMessageItem): Promise<void> {
  const { queue, settings, sink } = trigger;
  // Each update answers a new pop receipt: the latest is the one that can delete the message.
  let popReceipt = message.popReceipt;
  let renewing = Promise.resolve();
  const renew = setInterval(() => {
    renewing = renewing.then(() =>
      queue.updateMessage(message.messageId, popReceipt, undefined, settings.visibilityTimeoutSeconds).then(
        (r) => {
          popReceipt = r.popReceipt ?? popReceipt;
        },
        (err: unknown) => hostLog(sink, 'warning', `queue ${queue.name}: keeping message ${message.messageId} invisible failed: ${describe(err)}`),
      ),
    );
  }, (settings.visibilityTimeoutSeconds * 1000) / 2);
  renew.unref();
  /** No renewal may race the settling call: it would change the pop receipt under it. */
  const stopRenewing = async () => {
    clearInterval(renew);
    await renewing;
  };
  try {
    // A message past its attempts (e.g. the host crashed mid-run) goes straight to poison.
    if (message.dequeueCount > settings.maxDequeueCount) {
      await stopRenewing();
      return await moveToPoison(trigger, { ...message, popReceipt });
    }
    const succeeded = await invokeQueueHandler(trigger, message);
    await stopRenewing();
    if (succeeded) await queue.deleteMessage(message.messageId, popReceipt);
    else if (message.dequeueCount >= settings.maxDequeueCount) await moveToPoison(trigger, { ...message, popReceipt });
    else await queue.updateMessage(message.messageId, popReceipt, undefined, 0);
  } catch (err) {
    // The message reappears after its visibility timeout; nothing is lost.
    hostLog(sink, 'warning', `queue ${queue.name}: settling message ${message.messageId} failed: ${describe(err)}`);
  } finally {
    clearInterval(renew);
  }
}

async function invokeQueueHandler(trigger: QueueTrigger, message: DequeuedMessageItem): Promise<boolean> {
  const context = invocationContext(trigger.sink, trigger.def.name, {
    triggerMetadata: {
      id: message.messageId,
      dequeueCount: message.dequeueCount,
      insertionTime: message.insertedOn.toISOString(),
      expirationTime: message.expiresOn.toISOString(),
      nextVisibleTime: message.nextVisibleOn.toISOString(),
      popReceipt: message.popReceipt,
    },
  });
  try {
    await trigger.def.options.handler(decodeMessage(message.messageText, trigger.settings.messageEncoding), context);
    return true;
  } catch (err) {
    context.error(`attempt ${message.dequeueCount} of ${trigger.settings.maxDequeueCount} failed: ${describe(err)}`);
    return false;
  }
}

/** JSON text arrives as the parsed value, anything else as the string, like the Functions host. */
export function decodeMessage(text: string, encoding: 'base64' | 'none'): unknown {
  const decoded = encoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}

async function moveToPoison(trigger: QueueTrigger, message: DequeuedMessageItem): Promise<void> {
  await trigger.poison.createIfNotExists();
  await trigger.poison.sendMessage(message.messageText);
  await trigger.queue.deleteMessage(message.messageId, message.popReceipt);
  hostLog(trigger.sink, 'warning', `queue ${trigger.queue.name}: message ${message.messageId} moved to ${trigger.poison.name} after ${message.dequeueCount} attempt(s)`);
}

