import type { ReconcileRequest } from '../../ports';
import type { Deps, ReconcileOptions } from './options';

/** A subscription younger than this may be an overlapping run's create whose row is not saved yet. */
export const ORPHAN_MIN_AGE_MS = 10 * 60_000;

export interface TenantRepair {
  listed: number;
  deleted: number;
  complete: boolean;
}

/**
 * The paced repair job: lists every subscription the app holds in the tenant (Graph's list,
 * 25 calls per 20 s per tenant, shared between instances like the write budget) and deletes
 * those that point at our notification URL but that our table does not know — orphans of lost
 * responses that no user's reconcile heard of. Subscriptions for another notification URL
 * (another deployment of the same app registration) are never touched.
 *
 * Graph's list gives no creation time. Every subscription we create expires `lifetime` after its
 * creation (renewals are ours, hence known), so one expiring later than now + lifetime − 10 min
 * is less than 10 minutes old and is left for the next run.
 */
/**
 * Our table holds the subscription. The index row is written before the subscription row, so
 * a run cut between the two leaves an index row naming a subscription we never recorded: only
 * the subscription row itself makes it ours.
 */
async function knownToUs(deps: Deps, subscriptionId: string): Promise<boolean> {
  const indexed = await deps.storage.subscriptions.findById(subscriptionId);
  if (!indexed) return false;
  return (await deps.storage.subscriptions.listForUser(indexed.employeeId)).some((s) => s.subscriptionId === subscriptionId);
}

export async function repairTenant(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<TenantRepair> {
  const ours = deps.config.GRAPH_NOTIFICATION_URL;
  const lifetimeMs = deps.config.SUBSCRIPTION_LIFETIME_MINUTES * 60_000;
  let cursor: string | null = request.continuationToken ?? null;
  let listed = 0;
  let deleted = 0;
  do {
    const page = await deps.mail.listSubscriptions(cursor);
    listed += page.items.length;
    const youngAfter = options.now().getTime() + lifetimeMs - ORPHAN_MIN_AGE_MS;
    const candidates = page.items.filter((s) => s.notificationUrl === ours && (s.expiresAt === null || Date.parse(s.expiresAt) <= youngAfter));
    const unknown: typeof candidates = [];
    for (const sub of candidates) if (!(await knownToUs(deps, sub.id))) unknown.push(sub);
    if (unknown.length > 0) {
      // The mailbox stands in for the employee: it keys the provider's per-mailbox concurrency.
      const results = await deps.mail.apply(unknown.map((s) => ({ kind: 'delete' as const, employeeId: `mailbox:${s.resource.split('/')[1] ?? s.id}`, subscriptionId: s.id })));
      deleted += results.filter((r) => r.ok || r.failure === 'gone').length;
    }
    cursor = page.next;
    if (cursor && Date.now() > options.deadline) {
      await deps.storage.reconcileQueue.request({ repairOrphans: true, reason: 'continuation', requestId: request.requestId, continuationToken: cursor });
      options.log('reconcile.tenant_repair', { listed, deleted, complete: false });
      return { listed, deleted, complete: false };
    }
  } while (cursor);
  options.log('reconcile.tenant_repair', { listed, deleted, complete: true });
  return { listed, deleted, complete: true };
}
