/**
 * How one MailOperation becomes a Graph $batch sub-request, and how Graph's answer
 * becomes a MailOperationResult (or a reason to try again).
 *
 * Who an error is charged to (concepts/errors.md, concepts/throttling-limits.md,
 * resources/subscription.md):
 * - about one mailbox (charged to the member): 404 MailboxNotEnabledForRESTAPI and
 *   ExtensionError (no Exchange Online mailbox), 403 ErrorAccessDenied (an application
 *   access policy excludes the mailbox), SubscriptionCountReached (the mailbox's cap);
 * - about the whole app (never charged): Authorization_RequestDenied (permission or consent
 *   missing), 401 after a fresh token, token refusals, tenant-wide 5xx — `unavailable`.
 * Graph documents no distinct code for its per-mailbox 429; Outlook answers
 * `ApplicationThrottled` ("...MailboxConcurrency limit"), so that code (or a message naming
 * the mailbox limit) slows that mailbox only, and any other 429 pauses the tenant's writers.
 */
import type { MailOperation, MailOperationResult, ProviderAccessCause } from '../../ports';

/** Graph gets every change type: the data-sync consumer decides what matters. */
export const CHANGE_TYPES = 'created,updated,deleted';

export interface BatchRequest {
  id: string;
  method: 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BatchResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Graph addresses users by UPN in the path as-is ('@' included); anything else is escaped. */
function mailboxSegment(mailbox: string): string {
  return encodeURIComponent(mailbox).replace(/%40/g, '@');
}

export function toBatchRequest(id: string, op: MailOperation, notificationUrl: string): BatchRequest {
  const json = { 'Content-Type': 'application/json' };
  switch (op.kind) {
    case 'create':
      return {
        id,
        method: 'POST',
        url: '/subscriptions',
        headers: json,
        body: {
          changeType: CHANGE_TYPES,
          notificationUrl,
          lifecycleNotificationUrl: notificationUrl,
          resource: `/users/${mailboxSegment(op.mailbox)}/${op.resource}`,
          expirationDateTime: op.expiresAt,
          clientState: op.clientState,
        },
      };
    case 'renew':
      return { id, method: 'PATCH', url: `/subscriptions/${encodeURIComponent(op.subscriptionId)}`, headers: json, body: { expirationDateTime: op.expiresAt } };
    case 'delete':
      return { id, method: 'DELETE', url: `/subscriptions/${encodeURIComponent(op.subscriptionId)}` };
  }
}

/** What the dispatcher should do with one answer. */
export type Verdict =
  | { kind: 'done'; result: MailOperationResult }
  /** 429: wait for Retry-After (ms) and send again; `mailbox` slows only that mailbox, `tenant` every writer */
  | { kind: 'throttled'; scope: 'mailbox' | 'tenant'; retryAfterMs: number; status: number; code: string; message: string }
  /** 5xx, network, timeout, a failed dependency: back off and send again, a bounded number of times */
  | { kind: 'retry'; retryAfterMs: number | null; status: number; code: string; message: string }
  /** 401: the token was refused; drop it and send again with a fresh one (once) */
  | { kind: 'reauthenticate'; status: number; code: string; message: string };

interface GraphErrorBody {
  error?: { code?: unknown; message?: unknown };
}

export function errorOf(body: unknown, status: number): { code: string; message: string } {
  const error = (typeof body === 'object' && body !== null ? (body as GraphErrorBody).error : undefined) ?? {};
  return {
    code: typeof error.code === 'string' ? error.code : `HTTP_${status}`,
    message: typeof error.message === 'string' ? error.message : `Graph answered ${status}.`,
  };
}

/** Retry-After in ms (Graph sends seconds, possibly fractional); null when absent or unreadable. */
export function retryAfterMs(headers: Record<string, string> | Headers | undefined): number | null {
  let raw: string | null | undefined;
  if (headers instanceof Headers) raw = headers.get('retry-after');
  else raw = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const seconds = raw === null || raw === undefined ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : null;
}

/** "Subscription Id <id> already exists" (subscription-post-subscriptions.md): the id, when Graph names it. */
const EXISTING_ID = /subscription\s+id\s+'?([0-9A-Za-z-]{8,})'?\s+already exists/i;

function successOf(op: MailOperation, body: unknown): MailOperationResult {
  if (op.kind === 'delete') return { ok: true, subscriptionId: op.subscriptionId };
  const sub = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; expirationDateTime?: unknown };
  return {
    ok: true,
    subscriptionId: typeof sub.id === 'string' ? sub.id : op.kind === 'renew' ? op.subscriptionId : undefined,
    expiresAt: typeof sub.expirationDateTime === 'string' ? sub.expirationDateTime : op.expiresAt,
  };
}

export function isMailboxThrottle(code: string, message: string): boolean {
  return code === 'ApplicationThrottled' || /mailbox/i.test(message);
}

/** The organisation-level cause an answer stands for, or null when it is about this request only. */
export function accessCauseOf(status: number, code: string): ProviderAccessCause | null {
  if (code === 'Authorization_RequestDenied' || code === 'AccessDenied' || code === 'Authorization_IdentityNotFound') return 'PERMISSION';
  if (status === 401) return 'UNAUTHORIZED';
  return null;
}

export function unavailable(cause: ProviderAccessCause, status: number, code: string, message: string): MailOperationResult {
  return { ok: false, failure: 'unavailable', cause, status, code, message };
}

export function classify(op: MailOperation, response: Pick<BatchResponse, 'status' | 'headers' | 'body'>): Verdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'done', result: successOf(op, response.body) };
  const { code, message } = errorOf(response.body, status);
  const done = (result: MailOperationResult): Verdict => ({ kind: 'done', result });
  const failure = (kind: 'permanent' | 'gone' | 'exists' | 'transient', reason?: 'MAILBOX_NOT_FOUND' | 'MAILBOX_ACCESS_DENIED'): Verdict =>
    done({ ok: false, failure: kind, ...(reason ? { reason } : {}), status, code, message });
  // resources/subscription.md: the per-mailbox cap. Documented as 403, seen in practice as 429 with a
  // Retry-After of year 9999: either way waiting cannot help this run, and it is this mailbox's problem.
  if (code === 'SubscriptionCountReached' || /SubscriptionCountReached/.test(message)) {
    return done({ ok: false, failure: 'transient', status, code: 'SubscriptionCountReached', message });
  }
  if (status === 429) {
    const scope = isMailboxThrottle(code, message) ? 'mailbox' : 'tenant';
    return { kind: 'throttled', scope, retryAfterMs: retryAfterMs(response.headers) ?? 1000, status, code, message };
  }
  if (status === 401) return { kind: 'reauthenticate', status, code, message };
  const cause = accessCauseOf(status, code);
  if (cause) return done(unavailable(cause, status, code, message));
  if (status >= 500 || status === 408 || status === 424) return { kind: 'retry', retryAfterMs: retryAfterMs(response.headers), status, code, message };
  if (code === 'MailboxNotEnabledForRESTAPI' || code === 'ExtensionError') return failure('permanent', 'MAILBOX_NOT_FOUND');
  if (status === 403 && code === 'ErrorAccessDenied') return failure('permanent', 'MAILBOX_ACCESS_DENIED');
  if (status === 404 && op.kind === 'create') return failure('permanent', 'MAILBOX_NOT_FOUND');
  if (status === 404) return failure('gone');
  if (status === 409 && op.kind === 'create') {
    const existingId = EXISTING_ID.exec(message)?.[1];
    return done({ ok: false, failure: 'exists', status, code, message, ...(existingId ? { existingId } : {}) });
  }
  // Anything else (400 handshake failure, an unknown 403...) is retried later with backoff; it is not
  // known to be app-wide, so it counts for this member like any transient failure.
  return failure('transient');
}
