import type { RequestContext } from '../logging';
import type { AuditLog, ReconcileQueue, ReconcileRequest } from '../ports';
import { describe } from '../logging';

export type OperationContext = RequestContext;

export const groupScope = (groupId: string) => `group|${groupId}`;
export const userScope = (employeeId: string) => `user|${employeeId}`;
export const CONNECT_SCOPE = 'connect';

/** Who did it, as recorded in the audit trail. */
export function actor(ctx: OperationContext): string {
  return ctx.caller ? ctx.caller.username : 'system';
}

/**
 * Records one admin change in the audit trail (each scope) and as one structured
 * log line, so an operator can follow a toggle end to end by its request id.
 */
export async function audit(
  log: AuditLog,
  ctx: OperationContext,
  change: { action: string; target: string; from: unknown; to: unknown; scopes: string[] },
): Promise<void> {
  const entry = { at: ctx.now.toISOString(), by: actor(ctx), action: change.action, target: change.target, from: change.from, to: change.to, requestId: ctx.requestId };
  await Promise.all(change.scopes.map((scope) => log.append(scope, entry)));
  ctx.log('admin.change', { action: change.action, target: change.target, by: entry.by, from: change.from, to: change.to });
}

/**
 * Nudges the reconciler. The timer sweep is the safety net, so a queue outage is
 * reported (requested: false) rather than failing a change that already happened.
 */
export async function nudge(queue: ReconcileQueue, ctx: OperationContext, request: Omit<ReconcileRequest, 'requestId'>): Promise<boolean> {
  try {
    await queue.request({ ...request, requestId: ctx.requestId });
    ctx.log('reconcile.requested', { groupId: request.groupId ?? request.releaseGroupId, employeeId: request.employeeId, reason: request.reason });
    return true;
  } catch (err) {
    ctx.log('reconcile.request_failed', { groupId: request.groupId, employeeId: request.employeeId, error: describe(err) });
    return false;
  }
}

/** Strong or weak ETag compare as the client echoed it; `*` matches any existing resource. */
export function etagMatches(ifMatch: string | null, etag: string): boolean {
  return ifMatch === null || ifMatch === '*' || ifMatch === etag;
}
