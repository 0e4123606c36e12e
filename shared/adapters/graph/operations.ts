/**
 * How one MailOperation becomes a Graph $batch sub-request, and how Graph's answer
 * becomes a MailOperationResult (or a reason to try again).
 */
import type { MailOperation, MailOperationResult } from '../../ports';

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
  /** 429: wait for Retry-After (ms) and send again */
  | { kind: 'throttled'; retryAfterMs: number; status: number; code: string; message: string }
  /** 5xx, network, timeout: back off and send again, a bounded number of times */
  | { kind: 'retry'; retryAfterMs: number | null; status: number; code: string; message: string };

interface GraphErrorBody {
  error?: { code?: unknown; message?: unknown };
}

function errorOf(body: unknown, status: number): { code: string; message: string } {
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

function successOf(op: MailOperation, body: unknown): MailOperationResult {
  if (op.kind === 'delete') return { ok: true, subscriptionId: op.subscriptionId };
  const sub = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; expirationDateTime?: unknown };
  return {
    ok: true,
    subscriptionId: typeof sub.id === 'string' ? sub.id : op.kind === 'renew' ? op.subscriptionId : undefined,
    expiresAt: typeof sub.expirationDateTime === 'string' ? sub.expirationDateTime : op.expiresAt,
  };
}

export function classify(op: MailOperation, response: Pick<BatchResponse, 'status' | 'headers' | 'body'>): Verdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'done', result: successOf(op, response.body) };
  const { code, message } = errorOf(response.body, status);
  const failure = (kind: 'permanent' | 'gone' | 'exists' | 'transient', reason?: 'MAILBOX_NOT_FOUND' | 'MAILBOX_ACCESS_DENIED'): Verdict => ({
    kind: 'done',
    result: { ok: false, failure: kind, ...(reason ? { reason } : {}), status, code, message },
  });
  if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(response.headers) ?? 1000, status, code, message };
  if (status >= 500 || status === 408) return { kind: 'retry', retryAfterMs: retryAfterMs(response.headers), status, code, message };
  if (status === 403) return failure('permanent', 'MAILBOX_ACCESS_DENIED');
  if (status === 404 && (code === 'MailboxNotEnabledForRESTAPI' || op.kind === 'create')) return failure('permanent', 'MAILBOX_NOT_FOUND');
  if (status === 404) return failure('gone');
  if (status === 409 && op.kind === 'create') return failure('exists');
  // Anything else (400 handshake failure, 401...) is not the member's fault: the reconciler retries later.
  return failure('transient');
}
