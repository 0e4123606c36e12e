import { randomUUID } from 'node:crypto';
import type { WriteLimiter } from './limiter';
import { singleFlight } from '../../util/singleFlight';

/**
 * Where the instances writing to Graph announce themselves. Graph's write limit is per
 * tenant, but the Functions host scales out: each instance takes an equal share.
 */
export interface WriterRegistry {
  /** Records that `instanceId` writes until `until`; returns how many writers are live at `now` (itself included). */
  beat(instanceId: string, until: Date, now: Date): Promise<number>;
}

export interface TenantShareOptions {
  /** how often the share is re-read while writing */
  intervalMs?: number;
  /** how long a writer counts after its last beat (an idle or dead instance drops out) */
  ttlMs?: number;
  now?: () => number;
  instanceId?: string;
}

/**
 * Keeps this process's write limiter at capacity / live writers. Refreshed before bulk
 * work, at most once per interval; when another instance joins, the shares settle
 * within one interval (the provider honours Retry-After meanwhile). Storage trouble
 * keeps the last share: pacing must never stop the work.
 */
export class TenantShare {
  readonly instanceId: string;
  private readonly intervalMs: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private lastBeat = Number.NEGATIVE_INFINITY;
  /** one heartbeat at a time however many callers ask */
  private readonly beatOnce = singleFlight((now: number) => this.beat(now));

  constructor(
    private readonly registry: WriterRegistry,
    private readonly limiter: WriteLimiter,
    options: TenantShareOptions = {},
  ) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.intervalMs = options.intervalMs ?? 10_000;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  refresh(): Promise<void> {
    const now = this.now();
    if (now - this.lastBeat < this.intervalMs) return Promise.resolve();
    return this.beatOnce(now);
  }

  private async beat(now: number): Promise<void> {
    try {
      const writers = await this.registry.beat(this.instanceId, new Date(now + this.ttlMs), new Date(now));
      this.limiter.setShare(this.limiter.capacity / Math.max(1, writers));
      this.lastBeat = now;
    } catch {
      // keep the current share and try again on the next refresh
    }
  }
}
