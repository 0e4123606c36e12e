import '../shared/startup';
import type { InvocationContext, Timer } from '@azure/functions';
import { ReconcileRequestMessage } from '../shared/api/reconcileRequest';
import { loadConfig } from '../shared/config';
import { defineStorageQueue, defineTimer, QUEUES } from '../shared/functionRegistry';
import { describe, makeLog } from '../shared/logging';
import { checkVantagepointCredential } from '../shared/operations/incidents';
import { handleReconcileRequest, sweep } from '../shared/operations/reconcile';
import { getServices } from '../shared/services';
import { queuePayload } from '../shared/util/queueMessage';

function options(context: InvocationContext, requestId: string) {
  const budgetMs = loadConfig().RECONCILE_TIME_BUDGET_SECONDS * 1000;
  return {
    now: () => new Date(),
    log: makeLog(context, { requestId, invocationId: context.invocationId, function: context.functionName }),
    deadline: Date.now() + budgetMs,
  };
}

// Nudged by toggles, membership and user changes, lifecycle notifications and the sweep.
defineStorageQueue('reconcile-queue', {
  queueName: QUEUES.reconcile,
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext) => {
    const parsed = ReconcileRequestMessage.safeParse(queuePayload(message));
    if (!parsed.success) {
      // Retrying a malformed message cannot help; drop it loudly.
      context.warn(JSON.stringify({ event: 'reconcile.malformed_message', invocationId: context.invocationId, issues: parsed.error.issues.length }));
      return;
    }
    try {
      await handleReconcileRequest(await getServices(), parsed.data, options(context, parsed.data.requestId));
    } catch (err) {
      context.error(JSON.stringify({ event: 'reconcile.failed', requestId: parsed.data.requestId, error: describe(err) }));
      throw err; // the queue redelivers, then poisons after maxDequeueCount
    }
  },
});

// The safety net: level-triggered resync of everything on a schedule.
defineTimer('reconcile-timer', {
  schedule: '%RECONCILE_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: async (timer: Timer, context: InvocationContext) => {
    const requestId = `sweep-${context.invocationId}`;
    const services = await getServices();
    const opts = options(context, requestId);
    if (timer.isPastDue) opts.log('reconcile.sweep_past_due', {});
    await sweep(services, { ...opts, requestId });
    // The Vantagepoint credential is the organisation's: checked once per sweep, a refusal is announced once.
    await checkVantagepointCredential(services, { now: opts.now, log: opts.log, requestId }).catch((err: unknown) =>
      opts.log('connect.credential_check_failed', { error: describe(err) }),
    );
  },
});

// Orphans nobody heard of (a lost create response, then the user left): the paced tenant-wide
// repair, every 6 hours. It lists the app's subscriptions under the tenant's shared list budget.
defineTimer('orphan-repair-timer', {
  schedule: '0 15 */6 * * *',
  runOnStartup: false,
  useMonitor: true,
  handler: async (_timer: Timer, context: InvocationContext) => {
    const services = await getServices();
    await services.storage.reconcileQueue.request({ repairOrphans: true, reason: 'repair', requestId: `repair-${context.invocationId}` });
  },
});
