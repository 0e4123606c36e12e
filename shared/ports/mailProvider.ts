/** Microsoft Graph subscriptions (the mail provider) and the organisation-level Graph access breaker. */
import type { MailResource, MailboxReason } from '../domain/model';
import type { Log } from '../logging';

export type MailOperation =
  | { kind: 'create'; employeeId: string; mailbox: string; resource: MailResource; expiresAt: string; clientState: string }
  | { kind: 'renew'; employeeId: string; subscriptionId: string; expiresAt: string }
  | { kind: 'delete'; employeeId: string; subscriptionId: string };

/**
 * Why the provider cannot be used at all (organisation level, never one member's fault):
 * CREDENTIALS — the identity platform refuses the app's credentials (expired or wrong secret);
 * UNAUTHORIZED — Graph refuses the app's tokens (batch-level 401 after a fresh token);
 * PERMISSION — the app's permission or admin consent is missing (Authorization_RequestDenied);
 * SERVICE — Graph is failing for the whole tenant (batch-level 5xx, unreachable, every request 5xx).
 */
export type ProviderAccessCause = 'CREDENTIALS' | 'UNAUTHORIZED' | 'PERMISSION' | 'SERVICE';

export type MailOperationResult =
  | { ok: true; subscriptionId?: string; expiresAt?: string }
  | {
      ok: false;
      /** permanent: do not retry for this member; gone: subscription no longer exists (recreate / treat as deleted);
       *  exists: create found one already there; transient: retry with backoff (this mailbox's problem);
       *  unavailable: the provider cannot be used at all — never charged to the member (see `cause`) */
      failure: 'permanent' | 'gone' | 'exists' | 'transient' | 'unavailable';
      reason?: MailboxReason;
      /** for 'unavailable' */
      cause?: ProviderAccessCause;
      /** for 'exists': the id of the subscription already there, when the provider named it */
      existingId?: string;
      status: number;
      code: string;
      message: string;
      /** the provider's Retry-After, when it gave one: the next retry is never sooner */
      retryAfterMs?: number;
    };

/**
 * The result code of an operation `apply` did not start before its deadline: nothing was sent
 * for it, so it is neither a success nor a failure of the user; it continues in the next message.
 */
export const NOT_STARTED = 'NOT_STARTED';

export interface ApplyOptions {
  /** wall-clock ms since epoch: no operation starts after it; those left answer NOT_STARTED */
  deadline?: number | undefined;
}

export interface MailProvider {
  /**
   * Applies operations (batched, throttled, retried on Retry-After); one result per operation,
   * same order. Past `deadline` nothing more starts: operations still waiting answer a transient
   * result coded NOT_STARTED, so a long page never runs past the invocation's time budget.
   */
  apply(operations: MailOperation[], options?: ApplyOptions): Promise<MailOperationResult[]>;
  /** Writes this instance may make per second now (its share of the tenant's limit); paces page sizes. */
  writesPerSecond?(): number;
  /**
   * One page of every subscription the app holds in the tenant (`cursor` null = the first).
   * Graph's list endpoint is limited per tenant (25 calls per 20 s): only the paced repair
   * job calls it, never a user's reconcile.
   */
  listSubscriptions(cursor: string | null): Promise<{ items: ProviderSubscription[]; next: string | null }>;
}

// ---------------------------------------------------------------- organisation-level Graph access (the breaker)

/** The app's access to Graph as last observed, shared by every instance (one row, ETag-guarded). */
export interface GraphAccess {
  state: 'ok' | 'failing';
  /** why it fails (null when ok) */
  cause: ProviderAccessCause | null;
  code: string | null;
  message: string | null;
  /** when the current state began: since when it fails, or since when it works again */
  since: string | null;
  /** when the last probe ran (failing only) */
  lastProbeAt: string | null;
  /** members whose operations met the failure: the probe retries their work */
  probeEmployeeIds: string[];
}

export interface GraphAccessStore {
  /** null when never written (access is presumed ok) */
  get(): Promise<{ access: GraphAccess; etag: string } | null>;
  /** create (etag null; PreconditionFailedError if it exists) or replace under the etag (PreconditionFailedError when stale) */
  save(access: GraphAccess, etag: string | null): Promise<void>;
}

/** One transition of the organisation's Graph access, told once (by the instance that wrote it). */
export interface GraphAccessEvent {
  kind: 'lost' | 'recovered';
  cause: ProviderAccessCause | null;
  code: string | null;
  message: string | null;
  /** when access was lost (for `recovered`: when the outage began) */
  since: string;
  /** when this transition was recorded */
  at: string;
}

/**
 * Told when the organisation loses or regains Graph access (the e-mail notices subscribe here).
 * At most once per transition; a listener's failure is logged and never undoes the transition.
 */
export interface GraphAccessListener {
  graphAccessChanged(event: GraphAccessEvent, log: Log): Promise<void>;
}

export interface ProviderSubscription {
  id: string;
  /** e.g. users/{mailbox}/events */
  resource: string;
  notificationUrl: string | null;
  expiresAt: string | null;
}
