import { ChangeMessage } from '../../api/notifications';
import type { Storage } from '../../adapters/tables';
import type { MailResource } from '../../domain/model';

/**
 * A new events subscription (the user's first enable, a re-enable, a recreate after Graph removed
 * one) starts after the meetings already in the calendar: the reconciler asks the data sync for a
 * catch-up (a `resync` message, docs/CHANGE-QUEUE.md) so they are found by calendarView/delta.
 */
export async function requestCatchUp(
  storage: Pick<Storage, 'changeQueue'>,
  input: { employeeId: string; groupId: string | null; subscriptionId: string; requestId: string; now: Date },
): Promise<void> {
  await requestResync(storage, { ...input, resource: 'events' });
}

/** A `resync` for one of the user's resources, naming the (new) subscription it follows. */
export async function requestResync(
  storage: Pick<Storage, 'changeQueue'>,
  input: { employeeId: string; groupId: string | null; resource: MailResource; subscriptionId: string; requestId: string; now: Date },
): Promise<void> {
  await storage.changeQueue.publish(
    ChangeMessage.parse({
      schema: 'connect-sync.change/1',
      kind: 'resync',
      employeeId: input.employeeId,
      groupId: input.groupId,
      resource: input.resource,
      subscriptionId: input.subscriptionId,
      changeType: null,
      resourcePath: null,
      resourceId: null,
      tenantId: null,
      receivedAt: input.now.toISOString(),
      requestId: input.requestId,
    }),
  );
}
