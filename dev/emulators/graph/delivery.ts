/**
 * Outbound delivery to notification URLs, with Graph's deadline and its policy for slow
 * endpoints (concepts/change-notifications-delivery-webhooks.md, "HTTP codes and retry
 * logic" and "Throttling"):
 * - a delivery is answered within 3 s or it has failed; an answer after 2,900 ms is slow;
 * - an endpoint with >= 10 % slow answers in 10 minutes is marked slow: new notifications
 *   go out late (the page says "on a delay"); >= 15 % marks it drop: new notifications are
 *   dropped and cannot be recovered, until the share falls back under the threshold.
 * The page gives no minimum number of answers before a share counts; the emulator waits for
 * MIN_SAMPLE answers so a single stall on a shared machine does not silence an endpoint.
 * Graph retries failed deliveries for up to 4 hours; the emulator does not retry (the
 * caller sees the failure and may send again).
 */
import { randomBytes } from 'node:crypto';
import { sleep } from './http';
import type { EmulatedSubscription, GraphEmulatorState } from './state';

export const SLOW_MS = 2_900;
export const DEADLINE_MS = 3_000;
export const WINDOW_MS = 10 * 60_000;
export const SLOW_SHARE = 0.1;
export const DROP_SHARE = 0.15;
export const MIN_SAMPLE = 20;

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface DeliveryResult {
  /** the endpoint's status, or null when it did not answer in time or the notification was dropped */
  status: number | null;
  outcome: 'delivered' | 'failed' | 'timed_out' | 'dropped';
  ms: number;
  slow: boolean;
  /** how long the notification was held back because the endpoint was marked slow */
  delayedMs: number;
}

export interface DeliveryOptions {
  deadlineMs?: number;
  /** an answer later than this is slow (Graph: 2,900 ms) */
  slowMs?: number;
  /** hold-back for an endpoint marked slow */
  slowDelayMs?: number;
  /** handshake timeout (Graph: 10 s) */
  validationTimeoutMs?: number;
}

export class UnknownSubscriptionError extends Error {
  constructor(readonly subscriptionId: string) {
    super(`no live subscription ${subscriptionId}`);
  }
}

const RESOURCE = /^\/?users\/([^/]+)\/(events|contacts|messages)$/i;

export class Delivery {
  private readonly answers = new Map<string, Array<{ at: number; slow: boolean }>>();
  private readonly deadlineMs: number;
  private readonly slowMs: number;
  private readonly slowDelayMs: number;
  readonly validationTimeoutMs: number;

  constructor(
    private readonly state: GraphEmulatorState,
    options: DeliveryOptions = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? DEADLINE_MS;
    this.slowMs = options.slowMs ?? SLOW_MS;
    this.slowDelayMs = options.slowDelayMs ?? 10_000;
    this.validationTimeoutMs = options.validationTimeoutMs ?? 10_000;
  }

  /** The endpoint's standing by the answers of the last 10 minutes. */
  standing(url: string): { responses: number; slowShare: number; state: 'normal' | 'slow' | 'drop' } {
    const now = this.state.now();
    const recent = (this.answers.get(url) ?? []).filter((a) => a.at > now - WINDOW_MS);
    this.answers.set(url, recent);
    const slowShare = recent.length === 0 ? 0 : recent.filter((a) => a.slow).length / recent.length;
    const judged = recent.length >= MIN_SAMPLE;
    const state = judged && slowShare >= DROP_SHARE ? 'drop' : judged && slowShare >= SLOW_SHARE ? 'slow' : 'normal';
    return { responses: recent.length, slowShare, state };
  }

  stats(): GraphEmulatorState['delivery'] {
    return { ...this.state.delivery, endpoints: [...this.answers.keys()].map((url) => ({ url, ...this.standing(url) })) };
  }

  /** One POST of a notification payload, under Graph's deadline and slow/drop policy. */
  async post(url: string, payload: unknown): Promise<DeliveryResult> {
    const counters = this.state.delivery;
    const standing = this.standing(url);
    if (standing.state === 'drop') {
      counters.dropped++;
      return { status: null, outcome: 'dropped', ms: 0, slow: false, delayedMs: 0 };
    }
    let delayedMs = 0;
    if (standing.state === 'slow') {
      counters.delayed++;
      delayedMs = this.slowDelayMs;
      await sleep(delayedMs);
    }
    counters.sent++;
    const started = performance.now();
    let status: number | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.deadlineMs),
      });
      await response.arrayBuffer();
      status = response.status;
    } catch (err) {
      // a DOMException, which is not always an Error of this realm: go by its name
      const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
      if (name !== 'TimeoutError' && name !== 'AbortError') {
        counters.failed++;
        throw err;
      }
    }
    const ms = performance.now() - started;
    const slow = status === null || ms > this.slowMs;
    const list = this.answers.get(url) ?? [];
    list.push({ at: this.state.now(), slow });
    this.answers.set(url, list);
    if (slow) counters.slow++;
    if (status === null) {
      counters.timedOut++;
      counters.failed++;
      return { status, outcome: 'timed_out', ms, slow, delayedMs };
    }
    const ok = status >= 200 && status < 300;
    if (!ok) counters.failed++;
    return { status, outcome: ok ? 'delivered' : 'failed', ms, slow, delayedMs };
  }

  /**
   * A change notification (resources/changenotification.md) for `count` changed items of the
   * subscription's resource, in one delivery.
   */
  notify(subscriptionId: string, changeType: string, count = 1, item?: string): Promise<DeliveryResult> {
    const sub = this.requireLive(subscriptionId);
    const [, mailbox, kind] = RESOURCE.exec(sub.resource) ?? [];
    const collection = (kind ?? '').charAt(0).toUpperCase() + (kind ?? '').slice(1);
    const value = Array.from({ length: item ? 1 : count }, () => {
      const itemId = item ?? randomBytes(12).toString('base64url');
      return {
        subscriptionId: sub.id,
        clientState: sub.clientState,
        changeType,
        resource: `Users/${mailbox}/${collection}/${itemId}`,
        subscriptionExpirationDateTime: sub.expirationDateTime,
        resourceData: { '@odata.type': `#Microsoft.Graph.${collection.replace(/s$/, '')}`, '@odata.id': `Users/${mailbox}/${collection}/${itemId}`, id: itemId },
        tenantId: this.state.tenantId,
      };
    });
    return this.post(sub.notificationUrl, { value });
  }

  /** Graph notifies every live subscription on the mailbox's events whose changeType covers the change. */
  notifyMailbox(mailbox: string, changeType: string, itemId: string): Promise<Array<{ subscriptionId: string; status: number | string }>> {
    const subs = this.state
      .live()
      .filter((s) => s.resource.toLowerCase() === `users/${mailbox.toLowerCase()}/events` && s.changeType.split(',').includes(changeType));
    return Promise.all(
      subs.map(async (s) => ({
        subscriptionId: s.id,
        status: await this.notify(s.id, changeType, 1, itemId).then(
          (r) => r.status ?? r.outcome,
          (err: unknown) => (err instanceof Error ? err.message : 'delivery failed'),
        ),
      })),
    );
  }

  /** A lifecycle notification (concepts/change-notifications-lifecycle-events.md). */
  lifecycle(subscriptionId: string, event: LifecycleEvent): Promise<DeliveryResult> {
    const sub = this.requireLive(subscriptionId);
    // Graph stops delivering once it has removed a subscription; the event is the last word.
    if (event === 'subscriptionRemoved') this.state.remove(sub.id);
    return this.post(sub.lifecycleNotificationUrl ?? sub.notificationUrl, {
      value: [
        {
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          tenantId: this.state.tenantId,
          clientState: sub.clientState,
          lifecycleEvent: event,
        },
      ],
    });
  }

  private requireLive(id: string): EmulatedSubscription {
    const sub = this.state.find(id);
    if (!sub) throw new UnknownSubscriptionError(id);
    return sub;
  }
}
