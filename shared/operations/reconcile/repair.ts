import type { applyOutcomes, CreateAction } from '../../domain';
import type { MailResource, Subscription } from '../../domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../errors';
import type { MailOperationResult } from '../../ports';
import { hashClientState } from '../notifications';
import type { Deps } from './options';

/**
 * "Already exists" on create: if our table now holds a row for it, an overlapping run
 * made it and there is nothing to do; otherwise it is an orphan of a lost response —
 * delete it at the provider so the next plan creates one we hold the clientState of.
 * An overlapping run may still record what we deleted (it created it and had not saved
 * its row yet), so the ids deleted are returned: the one immediate re-plan (no loop)
 * treats them as removed by the provider and replaces such a row.
 */
export async function resolveOrphans(deps: Deps, employeeId: string, mailbox: string, adoptions: CreateAction[]): Promise<string[]> {
  if (adoptions.length === 0) return [];
  const ours = new Set((await deps.storage.subscriptions.listForUser(employeeId)).map((s) => s.resource));
  const deleted: string[] = [];
  for (const { resource } of adoptions) {
    if (ours.has(resource)) continue;
    const orphans = await deps.mail.findExisting(mailbox, resource);
    if (orphans.length === 0) continue;
    const results = await deps.mail.apply(orphans.map((subscriptionId) => ({ kind: 'delete' as const, employeeId, subscriptionId })));
    deleted.push(...orphans.filter((_, i) => isGoneNow(results[i])));
  }
  return deleted;
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
