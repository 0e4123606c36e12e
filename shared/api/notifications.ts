import { z } from 'zod';

/**
 * Microsoft Graph change and lifecycle notifications as delivered to the webhook.
 * Items are parsed one by one so one malformed item never costs the others.
 */
export const GraphNotification = z
  .object({
    subscriptionId: z.string().min(1).max(128),
    clientState: z.string().max(128).optional(),
    changeType: z.string().max(64).optional(),
    lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']).optional(),
    resource: z.string().max(1024).optional(),
    resourceData: z.object({ id: z.string().max(512).optional() }).loose().optional(),
    subscriptionExpirationDateTime: z.string().max(64).optional(),
    tenantId: z.string().max(64).optional(),
  })
  .meta({ id: 'GraphNotification' });

export const GraphNotificationBatch = z
  .object({ value: z.array(z.unknown()).min(1).max(1000) })
  .meta({ id: 'GraphNotificationBatch' });

/** Graph batches many notifications into one delivery: the webhook accepts larger bodies than the admin API. */
export const MAX_NOTIFICATION_BODY_BYTES = 1024 * 1024;

/** Graph's validation tokens are short; anything longer is not a handshake we answer. */
export const MAX_VALIDATION_TOKEN_LENGTH = 1024;

/**
 * The message the data-sync consumer reads from the change queue (docs/CHANGE-QUEUE.md).
 * Never contains clientState.
 */
export const ChangeMessage = z
  .object({
    schema: z.literal('connect-sync.change/1'),
    kind: z.enum(['change', 'resync']),
    employeeId: z.string(),
    groupId: z.string().nullable(),
    resource: z.enum(['events', 'contacts', 'messages']),
    subscriptionId: z.string(),
    changeType: z.string().nullable(),
    resourcePath: z.string().nullable(),
    resourceId: z.string().nullable(),
    tenantId: z.string().nullable(),
    receivedAt: z.string(),
    requestId: z.string(),
  })
  .meta({ id: 'ChangeMessage' });
export type ChangeMessage = z.infer<typeof ChangeMessage>;

const LifecycleEvent = z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']);

/**
 * One notification as the webhook persisted it on `graph-deliveries` (docs/CHANGE-QUEUE.md,
 * "Intake"). Never the clientState: either the owner it proved (a signed clientState), or, for a
 * subscription created before signed clientStates, the clientState's SHA-256 for the consumer
 * to compare with the one our subscription table holds.
 */
export const DeliveryItem = z
  .object({
    subscriptionId: z.string().min(1).max(128),
    employeeId: z.string().max(64).optional(),
    resource: z.enum(['events', 'contacts', 'messages']).optional(),
    clientStateHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    lifecycleEvent: LifecycleEvent.optional(),
    changeType: z.string().max(64).optional(),
    resourcePath: z.string().max(1024).optional(),
    resourceId: z.string().max(512).optional(),
    tenantId: z.string().max(64).optional(),
  })
  .refine((i) => (i.employeeId !== undefined && i.resource !== undefined) || i.clientStateHash !== undefined, {
    message: 'employeeId and resource (a signed clientState) or clientStateHash (a legacy one) is required',
  })
  .meta({ id: 'DeliveryItem' });
export type DeliveryItem = z.infer<typeof DeliveryItem>;

/** One queue message of a persisted delivery: a delivery larger than a message is split into parts. */
export const DeliveryMessage = z
  .object({
    schema: z.literal('connect-sync.delivery/1'),
    requestId: z.string().max(200),
    receivedAt: z.string().max(64),
    part: z.number().int().min(1),
    parts: z.number().int().min(1),
    items: z.array(DeliveryItem).min(1).max(1000),
  })
  .meta({ id: 'DeliveryMessage' });
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;
