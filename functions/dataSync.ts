import '../shared/startup';
import type { InvocationContext } from '@azure/functions';
import { defineAppStart, defineStorageQueue, QUEUES } from '../shared/functionRegistry';
import { describe, makeLog, processLog } from '../shared/logging';
import { handleChangeMessage } from '../shared/operations/dataSync/consume';
import { getDataSyncDeps } from '../shared/operations/dataSync/services';
import { queuePayload } from '../shared/util/queueMessage';

/**
 * The data-sync consumer of `mail-changes` (docs/CHANGE-QUEUE.md, docs/DATA-SYNC.md):
 * a syncing user's tagged Outlook meetings become Vantagepoint activities.
 */
defineStorageQueue('data-sync', {
  queueName: QUEUES.changes,
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext) => {
    const log = makeLog(context, { invocationId: context.invocationId, function: context.functionName });
    const raw = queuePayload(message);
    try {
      await handleChangeMessage(await getDataSyncDeps(log), raw, { log, now: () => new Date() });
    } catch (err) {
      const requestId = (raw as { requestId?: unknown } | null)?.requestId;
      context.error(JSON.stringify({ event: 'datasync.failed', requestId: typeof requestId === 'string' ? requestId : null, error: describe(err) }));
      throw err; // the queue redelivers, then poisons after maxDequeueCount
    }
  },
});

// ACTIVITY_TYPE is looked up in Vantagepoint when the host starts (its outcome is logged and shown
// by GET /api/connect/status), not only when the first change arrives.
defineAppStart('data-sync.activity-type', async () => {
  if (/^(true|1)$/i.test(process.env['AzureWebJobs.data-sync.Disabled'] ?? '')) return;
  const deps = await getDataSyncDeps(processLog({ function: 'data-sync', phase: 'start-up' }));
  await deps.activityType();
});
