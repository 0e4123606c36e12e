/**
 * The consumer of `graph-deliveries` (docs/CHANGE-QUEUE.md, "Intake"): what the webhook
 * persisted, processed off Graph's clock.
 * - each item's subscription must be ours and name the owner its clientState proved (legacy
 *   clientStates: the stored SHA-256, compared in constant time);
 * - a change is handed on to `mail-changes` (ChangeMessage, unchanged) only if its user is
 *   syncing now: stopping stays immediate, a notification for a user who stopped never reaches it;
 * - lifecycle events: `reauthorizationRequired` → the reconciler renews; `subscriptionRemoved` → the
 *   reconciler recreates, and asks for the resync only once the new subscription exists (executor.ts);
 *   `missed` → a resync now, if the user is syncing.
 * A failure (storage down) throws: the queue redelivers the message, then poisons it. Handing on is
 * at least once, as Graph's own delivery is.
 */
import { ChangeMessage, DeliveryMessage, type DeliveryItem } from '../api/notifications';
import type { MailResource } from '../domain/model';
import type { Services } from '../services';
import type { Log } from '../logging';
import { mapLimited } from '../util/concurrency';
import { clientStateHashMatches } from './notifications';
import { loadUserFacts, resolveUser, updateUserState, type UserFacts } from './userSync';

type Deps = Pick<Services, 'storage' | 'config'>;

export interface DeliveryOptions {
  log: Log;
  now: () => Date;
}

export type DeliveryOutcome = 'handed_on' | 'dropped_not_syncing' | 'unknown_subscription' | 'bad_client_state' | 'lifecycle';

interface Owned {
  item: DeliveryItem;
  employeeId: string;
  resource: MailResource;
}

/** Items of one message processed at once (each costs a few storage calls). */
const CONCURRENCY = 16;

export async function handleDeliveryMessage(deps: Deps, raw: unknown, options: DeliveryOptions): Promise<Record<DeliveryOutcome, number> | null> {
  const parsed = DeliveryMessage.safeParse(raw);
  if (!parsed.success) {
    const requestId = (raw as { requestId?: unknown } | null)?.requestId;
    options.log('notifications.malformed_delivery', { requestId: typeof requestId === 'string' ? requestId : null, issues: parsed.error.issues.length });
    return null;
  }
  const message = parsed.data;
  const tally: Record<DeliveryOutcome, number> = { handed_on: 0, dropped_not_syncing: 0, unknown_subscription: 0, bad_client_state: 0, lifecycle: 0 };
  const now = options.now();
  // One status read per user per message, however many of their items it holds.
  const facts = new Map<string, Promise<UserFacts>>();
  const factsOf = (employeeId: string): Promise<UserFacts> => {
    let found = facts.get(employeeId);
    if (!found) {
      found = loadUserFacts(deps, employeeId, { withSubscriptions: false });
      facts.set(employeeId, found);
    }
    return found;
  };
  const outcomes = await mapLimited(
    message.items,
    async (item): Promise<DeliveryOutcome> => {
      const owned = await ownerOf(deps, item);
      if (typeof owned === 'string') return owned;
      if (item.lifecycleEvent) {
        await onLifecycle(deps, owned, message, factsOf, now, options.log);
        return 'lifecycle';
      }
      const userFacts = await factsOf(owned.employeeId);
      if (!resolveUser(deps, userFacts, now).syncing) return 'dropped_not_syncing';
      await deps.storage.changeQueue.publish(changeMessage('change', owned, userFacts, message));
      return 'handed_on';
    },
    CONCURRENCY,
  );
  for (const outcome of outcomes) tally[outcome]++;
  options.log('notifications.consumed', { requestId: message.requestId, part: message.part, parts: message.parts, ...tally });
  return tally;
}

/** The subscription is one of ours and belongs to whom the clientState says. */
async function ownerOf(deps: Deps, item: DeliveryItem): Promise<Owned | 'unknown_subscription' | 'bad_client_state'> {
  const lookup = await deps.storage.subscriptions.findById(item.subscriptionId);
  if (!lookup) return 'unknown_subscription';
  if (item.clientStateHash !== undefined) {
    if (!clientStateHashMatches(item.clientStateHash, lookup.clientStateHash)) return 'bad_client_state';
    return { item, employeeId: lookup.employeeId, resource: lookup.resource };
  }
  // A valid signature for another user's or resource's subscription id is not this subscription's.
  if (lookup.employeeId !== item.employeeId || lookup.resource !== item.resource) return 'bad_client_state';
  return { item, employeeId: lookup.employeeId, resource: lookup.resource };
}

function changeMessage(kind: ChangeMessage['kind'], owned: Owned, facts: UserFacts, message: DeliveryMessage): ChangeMessage {
  const { item } = owned;
  return ChangeMessage.parse({
    schema: 'connect-sync.change/1',
    kind,
    employeeId: owned.employeeId,
    groupId: facts.group?.id ?? null,
    resource: owned.resource,
    subscriptionId: item.subscriptionId,
    changeType: kind === 'change' ? (item.changeType ?? null) : null,
    resourcePath: kind === 'change' ? (item.resourcePath ?? null) : null,
    resourceId: kind === 'change' ? (item.resourceId ?? null) : null,
    tenantId: item.tenantId ?? null,
    receivedAt: message.receivedAt,
    requestId: message.requestId,
  });
}

/**
 * reauthorizationRequired → renew now; subscriptionRemoved → recreate, then (the reconciler,
 * once the create succeeded) resync; missed → resync now. The reconciler does the provider work.
 */
async function onLifecycle(
  deps: Deps,
  owned: Owned,
  message: DeliveryMessage,
  factsOf: (employeeId: string) => Promise<UserFacts>,
  now: Date,
  log: Log,
): Promise<void> {
  const event = owned.item.lifecycleEvent;
  const { employeeId, resource } = owned;
  const subscriptionId = owned.item.subscriptionId;
  log('notifications.lifecycle', { requestId: message.requestId, event, employeeId, resource, subscriptionId });
  if (event === 'missed' || event === 'subscriptionRemoved') {
    await updateUserState(deps, employeeId, now, (s) => ({ ...s, resyncRequestedAt: now.toISOString() }));
  }
  if (event === 'missed') {
    const facts = await factsOf(employeeId);
    if (resolveUser(deps, facts, now).syncing) await deps.storage.changeQueue.publish(changeMessage('resync', owned, facts, message));
    return;
  }
  await deps.storage.reconcileQueue.request({
    employeeId,
    reason: `lifecycle.${event}`,
    requestId: message.requestId,
    ...(event === 'reauthorizationRequired' ? { renewSubscriptionIds: [subscriptionId] } : {}),
    ...(event === 'subscriptionRemoved' ? { removedSubscriptionIds: [subscriptionId] } : {}),
  });
}
