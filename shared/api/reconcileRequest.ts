import { z } from 'zod';
import { GroupId, EmployeeId } from './schemas';

/** A reconcile-requests queue message, as producers write it (shared/ports/queues.ts ReconcileRequest). */
export const ReconcileRequestMessage = z
  .object({
    groupId: GroupId.optional(),
    employeeId: EmployeeId.optional(),
    outsideGroups: z.literal(true).optional(),
    releaseGroupId: GroupId.optional(),
    reason: z.string().max(200),
    requestId: z.string().max(200),
    continuationToken: z.string().max(4096).optional(),
    passOf: z.string().max(64).optional(),
    passStartedAt: z.string().max(64).optional(),
    skipPrerequisiteRefresh: z.boolean().optional(),
    removalBudget: z.number().int().nonnegative().optional(),
    partialCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
    renewSubscriptionIds: z.array(z.string().max(128)).max(10).optional(),
    removedSubscriptionIds: z.array(z.string().max(128)).max(10).optional(),
    orphans: z
      .array(z.object({ resource: z.enum(['events', 'contacts', 'messages']), subscriptionId: z.string().max(128).optional() }))
      .max(10)
      .optional(),
    repairOrphans: z.literal(true).optional(),
    probeGraph: z.literal(true).optional(),
    clearSuspensions: z.literal(true).optional(),
    followUp: z.literal(true).optional(),
  })
  .refine(
    (m) => m.groupId !== undefined || m.employeeId !== undefined || m.outsideGroups === true || m.repairOrphans === true || m.probeGraph === true || m.releaseGroupId !== undefined,
    { message: 'groupId, employeeId, outsideGroups, repairOrphans, probeGraph or releaseGroupId is required' },
  );
