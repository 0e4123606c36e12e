/** Storage Queues: reconcile requests, change notifications, Graph deliveries. */
import type { MailResource } from '../domain/model';

export interface ReconcileRequest {
  /** reconcile every member of this group */
  groupId?: string | undefined;
  /** or one user */
  employeeId?: string | undefined;
  /** or every user holding subscriptions outside any group (the sweep's scan) */
  outsideGroups?: boolean | undefined;
  /** or release the members of a deleted group, then remove its row (resumable) */
  releaseGroupId?: string | undefined;
  reason: string;
  requestId: string;
  /** a group pass that ran out of time carries on from here (members continuation token) */
  continuationToken?: string | undefined;
  /** the group's syncChangedAt when the pass began: a continuation stops if the switch has moved since */
  passOf?: string | undefined;
  /** the mass-removal guard could not survey this pass: it must not refresh prerequisites from Vantagepoint */
  skipPrerequisiteRefresh?: boolean | undefined;
  /** how many more members this pass's prerequisite refreshes may take out (the guard's limit; absent: no limit, a confirmed hold) */
  removalBudget?: number | undefined;
  /** the status counts accumulated by the earlier part of an interrupted group pass */
  partialCounts?: Record<string, number> | undefined;
  /** when the group pass this continuation belongs to started (orders the passes' count writes) */
  passStartedAt?: string | undefined;
  /** the pass owed to requests that arrived while another pass held the group (it waits its turn) */
  followUp?: true | undefined;
  /** renew these subscriptions now whatever their expiry (reauthorizationRequired) */
  renewSubscriptionIds?: string[] | undefined;
  /** the provider removed these (subscriptionRemoved): forget and recreate them */
  removedSubscriptionIds?: string[] | undefined;
  /**
   * creates answered "already exists" while our table held no row: re-checked after a delay
   * (an overlapping run may have been saving it); still not ours → deleted and recreated
   */
  orphans?: Array<{ resource: MailResource; subscriptionId?: string | undefined }> | undefined;
  /** the paced tenant-wide orphan repair (lists every subscription the app holds); carries on from `continuationToken` */
  repairOrphans?: boolean | undefined;
  /** the breaker's probe: is Graph usable again? (operations/graphAccess.ts) */
  probeGraph?: boolean | undefined;
  /** a group force: the pass clears each member's suspension before reconciling them */
  clearSuspensions?: boolean | undefined;
}
export interface ReconcileQueue {
  /** `delaySeconds`: the message becomes visible only then (a scheduled retry or re-check) */
  request(message: ReconcileRequest, options?: { delaySeconds?: number }): Promise<void>;
}

/** Accepted change notifications for the data-sync consumer (schema in docs/CHANGE-QUEUE.md). */
export interface ChangeQueue {
  /** delaySeconds: the message becomes visible only then (a scheduled retry of the data-sync consumer) */
  publish(message: Record<string, unknown>, options?: { delaySeconds?: number }): Promise<void>;
}

/**
 * Graph deliveries as the webhook persisted them (docs/CHANGE-QUEUE.md, "Intake"): one delivery
 * may take several messages (64 KiB each), all sent at once, so persisting is one round trip.
 */
export interface DeliveryQueue {
  /** sends every message concurrently; rejects if any send failed (the caller answers 503 and Graph redelivers) */
  persist(messages: Record<string, unknown>[]): Promise<void>;
}
