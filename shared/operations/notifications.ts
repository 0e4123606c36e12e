import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { ChangeMessage, GraphNotification } from '../api/notifications';
import type { Services } from '../services';
import type { SubscriptionLookup } from '../ports';
import { mapLimited } from '../util/concurrency';
import { loadUserFacts, resolveUser, updateUserState } from './userSync';
import type { RequestContext } from '../logging';

type Deps = Pick<Services, 'storage' | 'config'>;
type Notification = z.infer<typeof GraphNotification>;

export function hashClientState(clientState: string): string {
  return createHash('sha256').update(clientState, 'utf8').digest('hex');
}

/** Constant-time: compares digests of equal length whatever the input. */
export function clientStateMatches(clientState: string | undefined, storedHash: string): boolean {
  if (clientState === undefined) return false;
  const given = Buffer.from(hashClientState(clientState), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === given.length && timingSafeEqual(given, stored);
}

export type IntakeOutcome = 'accepted' | 'dropped_not_syncing' | 'unknown_subscription' | 'bad_client_state' | 'malformed' | 'lifecycle';

/**
 * Webhook intake: authenticate each notification by its subscription's clientState,
 * drop it unless the user is syncing right now (stopping is immediate), persist the
 * accepted ones to the change queue. Lifecycle events become reconcile requests.
 */
export async function acceptNotifications(deps: Deps, items: unknown[], ctx: RequestContext): Promise<Record<IntakeOutcome, number>> {
  const tally: Record<IntakeOutcome, number> = { accepted: 0, dropped_not_syncing: 0, unknown_subscription: 0, bad_client_state: 0, malformed: 0, lifecycle: 0 };
  const outcomes = await mapLimited(items, (item) => acceptOne(deps, item, ctx), 16);
  for (const outcome of outcomes) tally[outcome]++;
  ctx.log('notifications.intake', { ...tally });
  return tally;
}

async function acceptOne(deps: Deps, item: unknown, ctx: RequestContext): Promise<IntakeOutcome> {
  const parsed = GraphNotification.safeParse(item);
  if (!parsed.success) return 'malformed';
  const notification = parsed.data;
  const lookup = await deps.storage.subscriptions.findById(notification.subscriptionId);
  if (!lookup) return 'unknown_subscription';
  if (!clientStateMatches(notification.clientState, lookup.clientStateHash)) return 'bad_client_state';
  if (notification.lifecycleEvent) {
    await onLifecycle(deps, notification, lookup, ctx);
    return 'lifecycle';
  }
  const facts = await loadUserFacts(deps, lookup.employeeId, { withSubscriptions: false });
  if (!resolveUser(deps, facts, ctx.now).syncing) return 'dropped_not_syncing';
  await deps.storage.changeQueue.publish(changeMessage('change', notification, lookup, facts.group?.id ?? null, ctx));
  return 'accepted';
}

function changeMessage(kind: ChangeMessage['kind'], n: Notification, lookup: SubscriptionLookup, groupId: string | null, ctx: RequestContext): ChangeMessage {
  return ChangeMessage.parse({
    schema: 'connect-sync.change/1',
    kind,
    employeeId: lookup.employeeId,
    groupId,
    resource: lookup.resource,
    subscriptionId: n.subscriptionId,
    changeType: n.changeType ?? null,
    resourcePath: n.resource ?? null,
    resourceId: n.resourceData?.id ?? null,
    tenantId: n.tenantId ?? null,
    receivedAt: ctx.now.toISOString(),
    requestId: ctx.requestId,
  });
}

/**
 * reauthorizationRequired → renew now; subscriptionRemoved → recreate and resync;
 * missed → resync. The reconciler does the provider work; intake only records and nudges.
 */
async function onLifecycle(deps: Deps, n: Notification, lookup: SubscriptionLookup, ctx: RequestContext): Promise<void> {
  const event = n.lifecycleEvent;
  ctx.log('notifications.lifecycle', { event, employeeId: lookup.employeeId, resource: lookup.resource, subscriptionId: n.subscriptionId });
  if (event === 'subscriptionRemoved' || event === 'missed') {
    await updateUserState(deps, lookup.employeeId, ctx.now, (s) => ({ ...s, resyncRequestedAt: ctx.now.toISOString() }));
    const facts = await loadUserFacts(deps, lookup.employeeId, { withSubscriptions: false });
    if (resolveUser(deps, facts, ctx.now).syncing) {
      await deps.storage.changeQueue.publish(changeMessage('resync', n, lookup, facts.group?.id ?? null, ctx));
    }
  }
  await deps.storage.reconcileQueue.request({
    employeeId: lookup.employeeId,
    reason: `lifecycle.${event}`,
    requestId: ctx.requestId,
    ...(event === 'reauthorizationRequired' ? { renewSubscriptionIds: [n.subscriptionId] } : {}),
    ...(event === 'subscriptionRemoved' ? { removedSubscriptionIds: [n.subscriptionId] } : {}),
  });
}
