import '../shared/startup';
import type { InvocationContext } from '@azure/functions';
import { NoticeQueueMessage } from '../shared/api/noticeMessage';
import { defineStorageQueue, QUEUES } from '../shared/functionRegistry';
import { describe, makeLog } from '../shared/logging';
import { deliverNotice } from '../shared/operations/outbox';
import { getServices } from '../shared/services';
import { queuePayload } from '../shared/util/queueMessage';

// The notification outbox: notices from the reconciler and the sweep become emails here.
defineStorageQueue('notification-queue', {
  queueName: QUEUES.notices,
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext) => {
    const parsed = NoticeQueueMessage.safeParse(queuePayload(message));
    if (!parsed.success) {
      // Retrying a malformed message cannot help; drop it loudly.
      context.warn(JSON.stringify({ event: 'notify.malformed_message', invocationId: context.invocationId, issues: parsed.error.issues.length }));
      return;
    }
    const log = makeLog(context, { requestId: parsed.data.requestId, invocationId: context.invocationId, function: context.functionName });
    try {
      await deliverNotice(await getServices(), parsed.data, { now: () => new Date(), log });
    } catch (err) {
      context.error(JSON.stringify({ event: 'notify.failed', requestId: parsed.data.requestId, error: describe(err) }));
      throw err; // the queue redelivers; the mail log keeps what was already sent from going twice
    }
  },
});
