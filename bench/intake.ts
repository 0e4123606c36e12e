/**
 * Notification intake under a burst, for `bench:reconcile`: what Graph sees of our webhook
 * (concepts/change-notifications-delivery-webhooks.md, "Throttling": an answer after 2,900 ms is
 * slow). Beside each burst, in the same run, `/api/health` is probed (4 requests in flight), so
 * the webhook's latency can be compared with a request that does no work at all under the same load.
 */
import { randomBytes } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { QUEUES } from '../shared/functionRegistry';
import { mapLimited } from '../shared/util/concurrency';
import { ms, summarize, timed } from './support';

/** Graph counts a response after this as slow. */
export const SLOW_MS = 2_900;
/** Target: the webhook's p99 within this multiple of /api/health's p99 under the same burst. */
export const HEALTH_RATIO_TARGET = 3;

export interface LiveSubscription {
  id: string;
  resource: string;
  clientState: string | null;
  expirationDateTime: string;
}

export interface IntakeOptions {
  /** single-item deliveries in the first burst, and how many are in flight */
  notifications: number;
  concurrency: number;
  /** deliveries of `bigSize` items, posted one at a time */
  bigDeliveries: number;
  bigSize: number;
}

/** One item as Graph sends it for an Outlook resource (no resource data). */
function item(sub: LiveSubscription): Record<string, unknown> {
  const itemId = `AAMkAGUwNjQ4ZjIx${randomBytes(96).toString('base64url')}`;
  const [, mailbox = '', kind = ''] = /^\/?users\/([^/]+)\/(\w+)$/i.exec(sub.resource) ?? [];
  const collection = kind.charAt(0).toUpperCase() + kind.slice(1);
  return {
    subscriptionId: sub.id,
    clientState: sub.clientState,
    changeType: 'updated',
    resource: `Users/${mailbox}/${collection}/${itemId}`,
    subscriptionExpirationDateTime: sub.expirationDateTime,
    resourceData: { '@odata.type': `#Microsoft.Graph.${collection.replace(/s$/, '')}`, '@odata.id': `Users/${mailbox}/${collection}/${itemId}`, '@odata.etag': 'W/"CQAAABYAAACQ2fKdhq8oSKEDSVrdi3lRAAGDUUXn"', id: itemId },
    tenantId: 'local-tenant',
  };
}

function delivery(subs: readonly LiveSubscription[], size: number, offset: number): string {
  return JSON.stringify({ value: Array.from({ length: size }, (_, i) => item(subs[(offset + i) % subs.length] as LiveSubscription)) });
}

interface BurstResult {
  samples: number[];
  statuses: Map<number, number>;
  health: number[];
}

/** Health probes in flight beside a burst: enough samples for a p99, few enough not to change the load. */
const HEALTH_PROBES = 4;

/** Runs `burst` while probing /api/health (HEALTH_PROBES requests in flight) until it ends. */
async function withHealthProbe(apiUrl: string, burst: () => Promise<{ samples: number[]; statuses: Map<number, number> }>): Promise<BurstResult> {
  const health: number[] = [];
  let running = true;
  const probe = async () => {
    while (running) {
      health.push(
        await timed(async () => {
          const res = await fetch(`${apiUrl}/health`);
          await res.arrayBuffer();
        }),
      );
    }
  };
  const probes = Array.from({ length: HEALTH_PROBES }, () => probe());
  try {
    return { ...(await burst()), health };
  } finally {
    running = false;
    await Promise.all(probes);
  }
}

async function deliveriesQueued(connectionString: string): Promise<number> {
  const queue = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(QUEUES.deliveries);
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

function report(title: string, r: BurstResult, queued: number): void {
  const s = summarize(r.samples);
  const h = summarize(r.health);
  const slow = r.samples.filter((v) => v > SLOW_MS).length;
  const ratio = s.p99 / h.p99;
  console.log(
    [
      `\n${title}`,
      `  statuses: ${[...r.statuses].map(([status, n]) => `${status} × ${n}`).join(', ')}; graph-deliveries messages added: ${queued}`,
      `  webhook:     n ${s.n}  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  over ${SLOW_MS} ms: ${slow} (${((slow / Math.max(1, s.n)) * 100).toFixed(2)}%)`,
      `  /api/health: n ${h.n}  p50 ${ms(h.p50)}  p95 ${ms(h.p95)}  p99 ${ms(h.p99)}  max ${ms(h.max)} (same burst, ${HEALTH_PROBES} in flight)`,
      `  webhook p99 / health p99 = ${ratio.toFixed(2)} (target ≤ ${HEALTH_RATIO_TARGET}: ${ratio <= HEALTH_RATIO_TARGET ? 'met' : 'MISSED'}); nothing over ${SLOW_MS} ms: ${slow === 0 ? 'met' : 'MISSED'}`,
    ].join('\n'),
  );
}

/** Both bursts: single-item deliveries `concurrency` in flight, then deliveries of `bigSize` items one at a time. */
export async function measureIntake(apiUrl: string, storageConnectionString: string, subs: readonly LiveSubscription[], o: IntakeOptions): Promise<void> {
  if (subs.length === 0) throw new Error('no live subscriptions to notify about');
  const post = async (body: string, statuses: Map<number, number>): Promise<void> => {
    const res = await fetch(`${apiUrl}/notifications/graph`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  };
  // Unmeasured warm-up: the first requests build the function app's services and connections.
  const warm = new Map<number, number>();
  await mapLimited(Array.from({ length: o.concurrency }, (_, i) => delivery(subs, 1, i)), (b) => post(b, warm), o.concurrency);
  if (o.bigDeliveries > 0) await post(delivery(subs, o.bigSize, 0), warm);

  const singles = Array.from({ length: o.notifications }, (_, i) => delivery(subs, 1, i));
  let before = await deliveriesQueued(storageConnectionString);
  const burst = await withHealthProbe(apiUrl, async () => {
    const statuses = new Map<number, number>();
    const samples = await mapLimited(singles, (body) => timed(() => post(body, statuses)), o.concurrency);
    return { samples, statuses };
  });
  report(`notification intake: ${o.notifications} deliveries of 1 item, ${o.concurrency} in flight (after ${o.concurrency} unmeasured)`, burst, (await deliveriesQueued(storageConnectionString)) - before);

  if (o.bigDeliveries === 0) return;
  const bigs = Array.from({ length: o.bigDeliveries }, (_, i) => delivery(subs, o.bigSize, i * o.bigSize));
  const bytes = Buffer.byteLength(bigs[0] as string, 'utf8');
  before = await deliveriesQueued(storageConnectionString);
  const big = await withHealthProbe(apiUrl, async () => {
    const statuses = new Map<number, number>();
    const samples: number[] = [];
    for (const body of bigs) samples.push(await timed(() => post(body, statuses)));
    return { samples, statuses };
  });
  report(`notification intake: ${o.bigDeliveries} deliveries of ${o.bigSize} items (${(bytes / 1024).toFixed(0)} KiB each), one at a time`, big, (await deliveriesQueued(storageConnectionString)) - before);
}
