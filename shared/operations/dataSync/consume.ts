/**
 * The consumer of `mail-changes` (docs/CHANGE-QUEUE.md): one message, one item.
 * - re-checks at consume time that the user is syncing (the status resolver), and again right
 *   before any Vantagepoint write: after a user stops, nothing more is written for them;
 * - `events` changes sync one event; `resync` runs a catch-up; `contacts`/`messages` are
 *   completed and counted as skipped (this slice syncs calendar events only);
 * - a transient failure (Graph or Vantagepoint busy, another attempt on the same event) is
 *   retried by a delayed copy of the message, a bounded number of times; a malformed message
 *   is completed, never retried.
 */
import { ChangeMessage } from '../../api/notifications';
import { ServiceUnavailableError } from '../../errors';
import { MailboxUnavailableError } from '../../adapters/graph/events';
import { loadUserFacts, resolveUser } from '../userSync';
import type { DataSyncContext, DataSyncDeps, Log, SyncUser } from './context';
import { catchUp } from './catchUp';
import { recordItem, updateDataSyncState } from './record';
import { syncEvent } from './syncEvent';

/** Delayed retries of one message before it becomes a failure with a sync issue. */
export const MAX_ATTEMPTS = 8;
/** How long a user's syncing status is trusted within one message's work. */
const STATUS_TTL_MS = 2_000;
/** A queued first catch-up is not queued again for this long. */
const CATCH_UP_REQUEUE_MS = 3_600_000;

export interface ConsumeOptions {
  log: Log;
  now: () => Date;
}

function attemptOf(raw: unknown): number {
  const attempt = (raw as { attempt?: unknown } | null)?.attempt;
  return typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 0 ? attempt : 0;
}

async function syncingNow(deps: DataSyncDeps, employeeId: string, now: Date) {
  // Whether a user syncs does not depend on their subscriptions (as at intake): one read fewer per item.
  const facts = await loadUserFacts(deps, employeeId, { withSubscriptions: false });
  return { facts, syncing: resolveUser(deps, facts, now).syncing };
}

/** The status re-check, cached briefly so a catch-up does not read it once per event. */
function statusGuard(deps: DataSyncDeps, employeeId: string, now: () => Date): () => Promise<boolean> {
  let checkedAt = now().getTime();
  let answer = true;
  return async () => {
    if (now().getTime() - checkedAt < STATUS_TTL_MS) return answer;
    answer = (await syncingNow(deps, employeeId, now())).syncing;
    checkedAt = now().getTime();
    return answer;
  };
}

export async function handleChangeMessage(deps: DataSyncDeps, raw: unknown, options: ConsumeOptions): Promise<void> {
  const parsed = ChangeMessage.safeParse(raw);
  if (!parsed.success) {
    const requestId = (raw as { requestId?: unknown } | null)?.requestId;
    options.log('datasync.malformed_message', { requestId: typeof requestId === 'string' ? requestId : null, issues: parsed.error.issues.length });
    return;
  }
  const message = parsed.data;
  const ctx: DataSyncContext = { requestId: message.requestId, log: options.log, now: options.now };
  const item = { employeeId: message.employeeId, eventId: message.resourceId, resource: message.resource };

  if (message.resource !== 'events') {
    await recordItem(deps, { ...item, outcome: 'skipped', reason: 'RESOURCE_NOT_SYNCED' }, ctx);
    return;
  }
  const { facts, syncing } = await syncingNow(deps, message.employeeId, ctx.now());
  if (!syncing) {
    await recordItem(deps, { ...item, outcome: 'not_syncing' }, ctx);
    return;
  }
  // the member's email is the mailbox (the reconciler moves subscriptions when it changes)
  const mailbox = facts.member?.email ?? '';
  if (!mailbox) {
    await recordItem(deps, { ...item, outcome: 'skipped', reason: 'NO_MAILBOX' }, ctx);
    return;
  }
  const user: SyncUser = { employeeId: message.employeeId, mailbox };
  const stillSyncing = statusGuard(deps, user.employeeId, ctx.now);

  try {
    if (message.kind === 'resync') {
      await catchUp(deps, user, ctx, stillSyncing);
      return;
    }
    await requestFirstCatchUp(deps, message, ctx);
    if (!message.resourceId) {
      await recordItem(deps, { ...item, outcome: 'skipped', reason: 'NO_ITEM_ID' }, ctx);
      return;
    }
    const result = await syncEvent(deps, user, message.resourceId, ctx, { deleted: message.changeType === 'deleted', stillSyncing });
    await recordItem(deps, { ...item, ...result }, ctx);
  } catch (err) {
    if (err instanceof MailboxUnavailableError) {
      // The reconciler owns the mailbox's status (suspension); the item cannot be read.
      await recordItem(deps, { ...item, outcome: 'failed', reason: err.status === 403 ? 'MAILBOX_ACCESS_DENIED' : 'MAILBOX_NOT_FOUND', message: err.message }, ctx);
      return;
    }
    if (err instanceof ServiceUnavailableError) {
      await retryLater(deps, raw, message, err, ctx);
      return;
    }
    throw err; // a bug or storage down: the host redelivers, then poisons
  }
}

/** A delayed copy of the message is the retry (the brief's rule: retries are scheduled, not slept). */
async function retryLater(deps: DataSyncDeps, raw: unknown, message: ChangeMessage, err: ServiceUnavailableError, ctx: DataSyncContext): Promise<void> {
  const attempt = attemptOf(raw) + 1;
  const item = { employeeId: message.employeeId, eventId: message.resourceId, resource: message.resource };
  if (attempt > MAX_ATTEMPTS) {
    await recordItem(deps, { ...item, outcome: 'failed', reason: 'RETRIES_EXHAUSTED', message: err.message, issue: true }, ctx);
    return;
  }
  // exponential from the dependency's own hint, capped at 15 minutes, with jitter so retries spread
  const delaySeconds = Math.min(900, err.retryAfterSeconds * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
  await deps.storage.changeQueue.publish({ ...message, attempt }, { delaySeconds });
  ctx.log('datasync.retry_scheduled', { requestId: ctx.requestId, employeeId: message.employeeId, eventId: message.resourceId, attempt, delaySeconds: Math.round(delaySeconds), dependency: err.dependency, error: err.message });
}

/** Users this process has seen caught up: their state need not be read again for it. */
const caughtUp = new Set<string>();

/** The first time a user's change is seen, their calendar is caught up once (first enable). */
async function requestFirstCatchUp(deps: DataSyncDeps, message: ChangeMessage, ctx: DataSyncContext): Promise<void> {
  if (caughtUp.has(message.employeeId)) return;
  const state = await deps.storage.dataSyncState.get(message.employeeId);
  if (state?.delta) {
    if (caughtUp.size > 100_000) caughtUp.clear(); // bounded memory
    caughtUp.add(message.employeeId);
    return;
  }
  const requested = state?.catchUpRequestedAt ? Date.parse(state.catchUpRequestedAt) : NaN;
  if (Number.isFinite(requested) && ctx.now().getTime() - requested < CATCH_UP_REQUEUE_MS) return;
  // Decided inside the ETag-guarded write, so of two first messages racing only one queues it.
  let queue = false;
  await updateDataSyncState(deps, message.employeeId, ctx.now(), (s) => {
    const earlier = s.catchUpRequestedAt ? Date.parse(s.catchUpRequestedAt) : NaN;
    queue = !s.delta && !(Number.isFinite(earlier) && ctx.now().getTime() - earlier < CATCH_UP_REQUEUE_MS);
    return queue ? { ...s, catchUpRequestedAt: ctx.now().toISOString() } : s;
  });
  if (!queue) return;
  await deps.storage.changeQueue.publish(
    ChangeMessage.parse({ ...message, kind: 'resync', changeType: null, resourcePath: null, resourceId: null, receivedAt: ctx.now().toISOString() }),
  );
}
