import { z } from 'zod';
import { MAILBOX_REASONS } from '../domain/model';
import type { NoticeMessage as NoticeMessageType } from '../ports';

/** A notification-mail queue message, as producers write it (shared/ports/notifications.ts NoticeMessage). */
const episode = z.string().min(1).max(200);
const detail = z.string().max(2000);

const Notice = z.discriminatedUnion('cause', [
  z.object({
    cause: z.literal('user_suspended'),
    episode,
    employeeId: z.string().min(1).max(64),
    name: z.string().max(200),
    email: z.string().max(254),
    groupId: z.string().max(64).nullable(),
    reason: z.enum(['TOO_MANY_FAILURES', ...MAILBOX_REASONS]),
    detail,
  }),
  z.object({ cause: z.enum(['graph_access_lost', 'graph_access_recovered']), episode, detail }),
  z.object({ cause: z.literal('vantagepoint_credential_failing'), episode, detail }),
  z.object({
    cause: z.literal('group_held'),
    episode,
    groupId: z.string().min(1).max(64),
    groupName: z.string().max(200),
    count: z.number().int().nonnegative(),
    activeMembers: z.number().int().nonnegative(),
    limit: z.number().int().nonnegative(),
    people: z.array(z.string().max(300)).max(50).optional(),
    detail,
  }),
]);

export const NoticeQueueMessage = z.object({
  notice: Notice,
  requestId: z.string().max(200),
  attempt: z.number().int().min(1).max(100).default(1),
}) satisfies z.ZodType<NoticeMessageType, unknown>;
