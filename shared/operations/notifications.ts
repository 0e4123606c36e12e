import { createHash, timingSafeEqual } from 'node:crypto';
import { GraphNotification, type DeliveryItem, type DeliveryMessage } from '../api/notifications';
import { isSignedClientState, verifyClientState } from '../domain/clientState';
import { MAX_MESSAGE_BYTES } from '../adapters/queues';
import type { ClientStateKeys, DeliveryQueue } from '../ports';
import type { RequestContext } from '../logging';

export function hashClientState(clientState: string): string {
  return createHash('sha256').update(clientState, 'utf8').digest('hex');
}

/** Constant-time: compares digests of equal length whatever the input. */
export function clientStateHashMatches(givenHash: string, storedHash: string): boolean {
  const given = Buffer.from(givenHash, 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === given.length && stored.length > 0 && timingSafeEqual(given, stored);
}

export interface IntakeDeps {
  storage: { deliveryQueue: DeliveryQueue };
  clientStateKeys: ClientStateKeys;
}

export type IntakeOutcome = 'persisted' | 'legacy' | 'bad_client_state' | 'malformed';

/** Room left in a queue message for its envelope (schema, ids, part numbers). */
const ENVELOPE_BYTES = 1024;

/**
 * Graph's webhook intake: validate each item on its own, authenticate it by its clientState
 * (an HMAC, checked without a read), and persist every accepted item of the delivery in one
 * round trip to `graph-deliveries`; the 202 follows. Whether the user is syncing, and what a
 * lifecycle event asks for, is decided by the consumer (operations/deliveries.ts), off Graph's
 * clock. A bad item is dropped and counted; the others are kept. If persisting fails this throws
 * (the webhook answers 503) and Graph redelivers the whole delivery.
 */
export async function acceptNotifications(deps: IntakeDeps, items: unknown[], ctx: RequestContext): Promise<Record<IntakeOutcome, number>> {
  const tally: Record<IntakeOutcome, number> = { persisted: 0, legacy: 0, bad_client_state: 0, malformed: 0 };
  let keys: string[] | undefined;
  const accepted: DeliveryItem[] = [];
  for (const raw of items) {
    const parsed = GraphNotification.safeParse(raw);
    if (!parsed.success) {
      tally.malformed++;
      continue;
    }
    const n = parsed.data;
    const common = {
      subscriptionId: n.subscriptionId,
      ...(n.lifecycleEvent ? { lifecycleEvent: n.lifecycleEvent } : {}),
      ...(n.changeType ? { changeType: n.changeType } : {}),
      ...(n.resource ? { resourcePath: n.resource } : {}),
      ...(n.resourceData?.id ? { resourceId: n.resourceData.id } : {}),
      ...(n.tenantId ? { tenantId: n.tenantId } : {}),
    };
    if (n.clientState === undefined || n.clientState === '') {
      tally.bad_client_state++;
      continue;
    }
    if (isSignedClientState(n.clientState)) {
      keys ??= await deps.clientStateKeys.current();
      const owner = verifyClientState(keys, n.clientState);
      if (!owner) {
        tally.bad_client_state++;
        continue;
      }
      accepted.push({ ...common, employeeId: owner.employeeId, resource: owner.resource });
      tally.persisted++;
    } else {
      // A subscription created before signed clientStates: the consumer checks the stored hash.
      accepted.push({ ...common, clientStateHash: hashClientState(n.clientState) });
      tally.legacy++;
    }
  }
  const messages = toMessages(accepted, ctx);
  if (messages.length > 0) await deps.storage.deliveryQueue.persist(messages);
  ctx.log('notifications.intake', { items: items.length, ...tally, messages: messages.length });
  return tally;
}

/** Packs the items into as few queue messages as the 64 KiB limit allows. */
export function toMessages(items: DeliveryItem[], ctx: Pick<RequestContext, 'requestId' | 'now'>): DeliveryMessage[] {
  const budget = MAX_MESSAGE_BYTES - ENVELOPE_BYTES;
  const groups: DeliveryItem[][] = [];
  let current: DeliveryItem[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
    if (current.length > 0 && size + bytes > budget) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) groups.push(current);
  const receivedAt = ctx.now.toISOString();
  return groups.map((group, i) => ({ schema: 'connect-sync.delivery/1', requestId: ctx.requestId, receivedAt, part: i + 1, parts: groups.length, items: group }));
}
