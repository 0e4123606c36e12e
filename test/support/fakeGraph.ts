import { randomBytes } from 'node:crypto';
import type { MailResource } from '../../shared/domain/model';
import type { MailOperation, MailOperationResult, MailProvider, ProviderSubscription } from '../../shared/ports';

/**
 * Microsoft Graph's subscription semantics in memory, for property tests that drive the
 * production executor many times (the HTTP emulator is too slow for hundreds of runs):
 * create answers 409 when (mailbox, resource) already has one (naming its id unless
 * `namesExisting` is off, as Graph's message sometimes does not), renew/delete of an unknown id
 * 404, subscriptions expire. Faults can be injected per call; `lostResponse` does the work
 * and answers 503, as a response lost on the way back would.
 */
export type Fault = 'none' | 'transient' | 'throttled' | 'lostResponse' | 'mailboxMissing' | 'forbidden';

export class FakeGraph implements MailProvider {
  readonly subscriptions = new Map<string, { mailbox: string; resource: MailResource; expiresAt: number }>();
  private nextId = 1;
  private readonly tag = randomBytes(4).toString('hex');
  /** faults for the next calls, in order; 'none' when empty */
  faults: Fault[] = [];
  /** whether a 409 names the subscription already there */
  namesExisting = true;

  constructor(
    private readonly clock: () => number = Date.now,
    /** the notification URL every subscription was created with (the tenant repair job only touches its own) */
    private readonly notificationUrl = 'https://example.test/api/notifications/graph',
  ) {}

  async apply(operations: MailOperation[]): Promise<MailOperationResult[]> {
    return operations.map((op) => this.one(op));
  }

  async listSubscriptions(cursor: string | null): Promise<{ items: ProviderSubscription[]; next: string | null }> {
    this.prune();
    const all = [...this.subscriptions].map(([id, s]) => ({ id, resource: `users/${s.mailbox}/${s.resource}`, notificationUrl: this.notificationUrl, expiresAt: new Date(s.expiresAt).toISOString() }));
    const start = cursor === null ? 0 : Number(cursor);
    return { items: all.slice(start, start + 100), next: start + 100 < all.length ? String(start + 100) : null };
  }

  live(mailbox: string, resource: MailResource): string[] {
    this.prune();
    return [...this.subscriptions].filter(([, s]) => s.mailbox === mailbox && s.resource === resource).map(([id]) => id);
  }

  private prune(): void {
    for (const [id, s] of this.subscriptions) if (s.expiresAt <= this.clock()) this.subscriptions.delete(id);
  }

  private one(op: MailOperation): MailOperationResult {
    const fault = this.faults.shift() ?? 'none';
    if (fault === 'transient') return { ok: false, failure: 'transient', status: 503, code: 'ServiceUnavailable', message: 'unavailable' };
    if (fault === 'throttled') return { ok: false, failure: 'transient', status: 429, code: 'TooManyRequests', message: 'throttled', retryAfterMs: 90_000 };
    if (fault === 'forbidden') return { ok: false, failure: 'permanent', reason: 'MAILBOX_ACCESS_DENIED', status: 403, code: 'ErrorAccessDenied', message: 'denied' };
    if (fault === 'mailboxMissing') {
      return { ok: false, failure: 'permanent', reason: 'MAILBOX_NOT_FOUND', status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'no mailbox' };
    }
    const result = this.perform(op);
    return fault === 'lostResponse' ? { ok: false, failure: 'transient', status: 503, code: 'ServiceUnavailable', message: 'lost' } : result;
  }

  private perform(op: MailOperation): MailOperationResult {
    this.prune();
    if (op.kind === 'create') {
      const existing = [...this.subscriptions].find(([, s]) => s.mailbox === op.mailbox && s.resource === op.resource);
      if (existing) {
        return { ok: false, failure: 'exists', status: 409, code: 'ExtensionError', message: 'already exists', ...(this.namesExisting ? { existingId: existing[0] } : {}) };
      }
      // unique across fakes: the tests' tables outlive one fake
      const id = `sub-${this.tag}-${this.nextId++}`;
      const expiresAt = Date.parse(op.expiresAt);
      this.subscriptions.set(id, { mailbox: op.mailbox, resource: op.resource, expiresAt });
      return { ok: true, subscriptionId: id, expiresAt: new Date(expiresAt).toISOString() };
    }
    const existing = this.subscriptions.get(op.subscriptionId);
    if (!existing) return { ok: false, failure: 'gone', status: 404, code: 'ResourceNotFound', message: 'not found' };
    if (op.kind === 'delete') {
      this.subscriptions.delete(op.subscriptionId);
      return { ok: true };
    }
    existing.expiresAt = Date.parse(op.expiresAt);
    return { ok: true, expiresAt: op.expiresAt };
  }
}
