import { randomUUID } from 'node:crypto';
import type { applyOutcomes, CreateAction } from '../../domain';
import type { MailResource, Subscription } from '../../domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../errors';
import type { Log } from '../../logging';
import type { MailOperationResult, ReconcileRequest } from '../../ports';
import { hashClientState } from '../notifications';
import type { Deps } from './options';

/** How long an "already exists" waits before it is judged an orphan: far longer than a run takes to save its row. */
export const ORPHAN_RECHECK_SECONDS = 60;

/**
 * "Already exists" on create: if our table now holds a row for it, an overlapping run
 * made it and there is nothing to do. Otherwise it is either an overlapping run's create
 * whose row is not saved yet, or an orphan of a lost response; the two look alike now,
 * so nothing is deleted yet: a delayed re-check (recheckOrphans) decides. The id comes
 * from Graph's 409 message when it names one — the tenant's subscriptions are never
 * listed here (that is the paced repair job's work, tenantRepair.ts).
 */
export async function resolveOrphans(deps: Deps, employeeId: string, _mailbox: string, adoptions: Array<CreateAction & { existingId?: string }>): Promise<string[]> {
  if (adoptions.length === 0) return [];
  const ours = new Set((await deps.storage.subscriptions.listForUser(employeeId)).map((s) => s.resource));
  const orphans = adoptions.filter((a) => !ours.has(a.resource)).map((a) => ({ resource: a.resource, ...(a.existingId ? { subscriptionId: a.existingId } : {}) }));
  if (orphans.length > 0) {
    await deps.storage.reconcileQueue.request(
      { employeeId, reason: 'orphan.recheck', requestId: `orphan-${randomUUID()}`, orphans },
      { delaySeconds: ORPHAN_RECHECK_SECONDS },
    );
  }
  return [];
}

/**
 * The delayed re-check of "already exists": a subscription our table still does not name
 * is not ours (we do not hold its clientState), so it is deleted at the provider and the
 * user's reconcile that follows creates one we own. A row naming another id for the same
 * resource is stale (Graph keeps one per resource and change type): it is returned as
 * removed, so that run replaces it. Without an id (Graph did not name it) nothing can be
 * done without listing the tenant: the repair job will find it.
 */
export async function recheckOrphans(deps: Deps, employeeId: string, orphans: NonNullable<ReconcileRequest['orphans']>, log: Log): Promise<string[]> {
  const rows = new Map((await deps.storage.subscriptions.listForUser(employeeId)).map((s) => [s.resource, s]));
  const removed: string[] = [];
  const deletes: string[] = [];
  for (const orphan of orphans) {
    const row = rows.get(orphan.resource);
    if (!orphan.subscriptionId) {
      if (!row) log('reconcile.orphan_unresolved', { employeeId, resource: orphan.resource });
      continue;
    }
    if (row?.subscriptionId === orphan.subscriptionId) continue;
    deletes.push(orphan.subscriptionId);
    if (row) removed.push(row.subscriptionId);
  }
  if (deletes.length === 0) return removed;
  const results = await deps.mail.apply(deletes.map((subscriptionId) => ({ kind: 'delete' as const, employeeId, subscriptionId })));
  log('reconcile.orphans_deleted', { employeeId, deleted: deletes.filter((_, i) => isGoneNow(results[i])).length, of: deletes.length });
  return removed;
}

/** The provider no longer has it: deleted now, or already gone. */
function isGoneNow(result: MailOperationResult | undefined): boolean {
  return result !== undefined && (result.ok || result.failure === 'gone');
}

type Reduced = ReturnType<typeof applyOutcomes>['subscriptions'];

/** Records the reduced subscription changes in our table, resolving races with overlapping runs. */
export async function persistSubscriptions(
  deps: Deps,
  employeeId: string,
  mailbox: string,
  current: Subscription[],
  changes: Reduced,
  clientStates: Map<MailResource, string>,
  /** ids the provider no longer has: a row still naming one may be replaced */
  gone: readonly string[],
) {
  const byResource = new Map(current.map((s) => [s.resource, s]));
  for (const removal of changes.remove) {
    const existing = byResource.get(removal.resource);
    if (existing?.subscriptionId === removal.subscriptionId) {
      await deps.storage.subscriptions.delete(employeeId, removal.resource, existing.etag).catch(ignoreGone);
      byResource.delete(removal.resource);
    }
  }
  for (const write of changes.upsert) {
    const existing = byResource.get(write.resource);
    if (write.change === 'renewed') {
      if (existing?.subscriptionId !== write.subscriptionId) continue;
      const { etag, ...row } = existing;
      await deps.storage.subscriptions.save({ ...row, expiresAt: write.expiresAt, lastRenewedAt: write.lastRenewedAt }, etag).catch(ignoreGone);
      continue;
    }
    const record = {
      employeeId,
      resource: write.resource,
      subscriptionId: write.subscriptionId,
      mailbox,
      expiresAt: write.expiresAt,
      createdAt: write.createdAt,
      lastRenewedAt: null,
      clientStateHash: hashClientState(clientStates.get(write.resource) ?? ''),
    };
    try {
      await deps.storage.subscriptions.save(record, null);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (await replaceGoneRow(deps, record, gone)) continue;
      // An overlapping run recorded its own live subscription first: ours must not live beside it.
      await deps.mail.apply([{ kind: 'delete', employeeId, subscriptionId: write.subscriptionId }]);
    }
  }
}

/** The row an overlapping run saved names a subscription the provider no longer has: ours takes its place. */
async function replaceGoneRow(deps: Deps, record: Omit<Subscription, 'etag'>, gone: readonly string[]): Promise<boolean> {
  const row = (await deps.storage.subscriptions.listForUser(record.employeeId)).find((s) => s.resource === record.resource);
  if (!row || !gone.includes(row.subscriptionId)) return false;
  try {
    await deps.storage.subscriptions.save(record, row.etag);
    return true;
  } catch (err) {
    if (err instanceof PreconditionFailedError || err instanceof NotFoundError) return false;
    throw err;
  }
}

/** Someone else already removed or replaced the row: the outcome we wanted. */
function ignoreGone(err: unknown) {
  if (!(err instanceof NotFoundError || err instanceof PreconditionFailedError)) throw err;
}
