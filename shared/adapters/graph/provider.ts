/**
 * The Microsoft Graph MailProvider: subscription writes sent as $batch requests of
 * up to 20, paced by the shared write limiter, at most 4 in flight per mailbox and a
 * bounded number of batches in flight. Every operation ends with a result: Graph's
 * per-request 429s are retried after their own Retry-After, transient failures a few
 * times with backoff, and nothing is thrown for one operation's failure.
 */
import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../config';
import type { MailResource } from '../../domain/model';
import type { MailOperation, MailOperationResult, MailProvider, SecretSource } from '../../ports';
import { CachedCredential, createGraphCredential, GRAPH_SCOPE, type RefreshableCredential } from './credential';
import { defaultListLimiter, defaultMailboxSemaphore, defaultWriteLimiter, type KeyedSemaphore, type WriteLimiter } from './limiter';
import { classify, retryAfterMs, toBatchRequest, type BatchResponse, type Verdict } from './operations';
import type { TenantShare } from './share';

export interface MailProviderOptions {
  credential?: TokenCredential;
  fetch?: typeof fetch;
  limiter?: WriteLimiter;
  /** divides the tenant's write limit among scaled-out instances (refreshed before each apply) */
  share?: TenantShare;
  /** paces findExisting (Graph's list endpoint: 25 calls per 20 s per tenant) */
  listLimiter?: WriteLimiter;
  sleep?: (ms: number) => Promise<void>;
  /** clock used with sleep for retry times */
  now?: () => number;
  /** per-mailbox concurrency (defaults to the process-wide semaphore of 4) */
  mailboxes?: KeyedSemaphore;
  /** $batch calls in flight at once */
  maxBatchesInFlight?: number;
  /** 429s tolerated per operation before it ends as transient */
  maxThrottledAttempts?: number;
  /** 5xx/network retries per operation before it ends as transient */
  maxTransientRetries?: number;
  /** per $batch call */
  timeoutMs?: number;
}

const MAX_BATCH = 20;

interface SubscriptionListPage {
  value?: Array<{ id?: unknown; resource?: unknown }>;
  '@odata.nextLink'?: string;
}

interface Work {
  index: number;
  op: MailOperation;
  throttled: number;
  failures: number;
  notBefore: number;
}

type Retryable = Exclude<Verdict, { kind: 'done' }>;

const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms)).unref();
  });

class GraphMailProvider implements MailProvider {
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly maxBatches: number;
  private readonly maxThrottled: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly share: TenantShare | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly notificationUrl: string,
    private readonly credential: RefreshableCredential,
    private readonly limiter: WriteLimiter,
    private readonly mailboxes: KeyedSemaphore,
    private readonly listLimiter: WriteLimiter,
    options: MailProviderOptions,
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
    this.share = options.share;
    this.maxBatches = options.maxBatchesInFlight ?? 8;
    this.maxThrottled = options.maxThrottledAttempts ?? 8;
    this.maxRetries = options.maxTransientRetries ?? 3;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async apply(operations: MailOperation[]): Promise<MailOperationResult[]> {
    if (operations.length > 0) await this.share?.refresh();
    const results: MailOperationResult[] = new Array<MailOperationResult>(operations.length);
    const queue: Work[] = operations.map((op, index) => ({ index, op, throttled: 0, failures: 0, notBefore: 0 }));
    const inFlight = new Set<Promise<void>>();
    while (queue.length > 0 || inFlight.size > 0) {
      const batch = inFlight.size < this.maxBatches ? this.takeBatch(queue) : [];
      if (batch.length > 0) {
        const sent: Promise<void> = this.send(batch, queue, results).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      } else {
        await this.nextChange(queue, inFlight);
      }
    }
    return results;
  }

  async findExisting(mailbox: string, resource: MailResource): Promise<string[]> {
    const wanted = `users/${mailbox}/${resource}`.toLowerCase();
    const ids: string[] = [];
    for (let url: string | undefined = `${this.baseUrl}/subscriptions`; url; ) {
      const page = await this.listPage(url);
      for (const sub of page.value ?? []) {
        if (typeof sub.id === 'string' && typeof sub.resource === 'string' && sub.resource.replace(/^\//, '').toLowerCase() === wanted) ids.push(sub.id);
      }
      url = page['@odata.nextLink'];
    }
    return ids;
  }

  /** One page of GET /subscriptions, waiting out 429s a bounded number of times; throws otherwise. */
  private async listPage(url: string): Promise<SubscriptionListPage> {
    for (let attempt = 0; ; attempt++) {
      await this.listLimiter.acquire(1);
      const { token } = await this.credential.getToken(GRAPH_SCOPE);
      const response = await this.fetchImpl(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      const body: unknown = await response.json().catch(() => null);
      if (response.ok) return (body ?? {}) as SubscriptionListPage;
      if (response.status === 401) this.credential.invalidate();
      const wait = response.status === 429 ? (retryAfterMs(response.headers) ?? 1000) : null;
      if (wait === null || attempt >= this.maxThrottled) throw new Error(`Graph subscription list answered ${response.status}`);
      this.listLimiter.pause(wait);
    }
  }

  /** Up to 20 operations that are due and whose mailbox has a free slot; they leave the queue. */
  private takeBatch(queue: Work[]): Work[] {
    const now = this.now();
    const batch: Work[] = [];
    // A batch is granted by the limiter in one piece, so it cannot be larger than the limit.
    const size = Math.min(MAX_BATCH, this.limiter.limit);
    for (let i = 0; i < queue.length && batch.length < size; ) {
      const work = queue[i] as Work;
      if (work.notBefore <= now && this.mailboxes.tryAcquire(work.op.employeeId)) {
        batch.push(work);
        queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  /** Waits until something could let more work go: a batch ends, a retry falls due, a mailbox slot frees. */
  private async nextChange(queue: Work[], inFlight: Set<Promise<void>>): Promise<void> {
    const now = this.now();
    const waits: Array<Promise<unknown>> = [...inFlight, this.mailboxes.whenReleased()];
    const due = queue.map((w) => w.notBefore).filter((t) => t > now);
    if (due.length > 0) waits.push(this.sleep(Math.min(...due) - now));
    await Promise.race(waits);
  }

  private async send(batch: Work[], queue: Work[], results: MailOperationResult[]): Promise<void> {
    try {
      await this.limiter.acquire(batch.length);
      const responses = await this.postBatch(batch);
      batch.forEach((work, i) => {
        const answer = responses.get(String(i + 1));
        const verdict: Verdict = answer
          ? classify(work.op, answer)
          : { kind: 'retry', retryAfterMs: null, status: 502, code: 'MissingBatchResponse', message: 'Graph returned no answer for this request.' };
        this.settle(work, verdict, queue, results);
      });
    } catch (err) {
      const verdict = verdictOfBatchFailure(err);
      for (const work of batch) this.settle(work, verdict, queue, results);
    } finally {
      for (const work of batch) this.mailboxes.release(work.op.employeeId);
    }
  }

  private async postBatch(batch: Work[]): Promise<Map<string, BatchResponse>> {
    const { token } = await this.credential.getToken(GRAPH_SCOPE);
    const response = await this.fetchImpl(`${this.baseUrl}/$batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ requests: batch.map((w, i) => toBatchRequest(String(i + 1), w.op, this.notificationUrl)) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await response.json().catch(() => null)) as { responses?: BatchResponse[] } | null;
    if (response.status === 401) this.credential.invalidate();
    if (!response.ok || !Array.isArray(body?.responses)) throw new BatchFailure(response.status, response.headers, body);
    return new Map(body.responses.map((r) => [String(r.id), r]));
  }

  private settle(work: Work, verdict: Verdict, queue: Work[], results: MailOperationResult[]): void {
    if (verdict.kind === 'done') {
      results[work.index] = verdict.result;
      return;
    }
    const delay = this.retryDelay(work, verdict);
    if (delay === null) {
      const retryAfterMs = verdict.retryAfterMs ?? undefined;
      results[work.index] = { ok: false, failure: 'transient', status: verdict.status, code: verdict.code, message: verdict.message, ...(retryAfterMs ? { retryAfterMs } : {}) };
      return;
    }
    work.notBefore = this.now() + delay;
    queue.push(work);
  }

  /** ms before the next attempt, or null when the operation has used its attempts. */
  private retryDelay(work: Work, verdict: Retryable): number | null {
    if (verdict.kind === 'throttled') {
      // Graph's Retry-After is for the whole app: hold every writer back, not just this one.
      this.limiter.pause(verdict.retryAfterMs);
      work.throttled++;
      return work.throttled > this.maxThrottled ? null : verdict.retryAfterMs;
    }
    work.failures++;
    if (work.failures > this.maxRetries) return null;
    const backoff = 250 * 2 ** (work.failures - 1) * (1 + Math.random() * 0.5);
    return Math.max(backoff, verdict.retryAfterMs ?? 0);
  }
}

/** The $batch call itself failed: its status decides for every operation in it. */
class BatchFailure extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: unknown,
  ) {
    super(`Graph $batch answered ${status}`);
  }
}

function verdictOfBatchFailure(err: unknown): Verdict {
  if (err instanceof BatchFailure) {
    const verdict = classify({ kind: 'delete', employeeId: '', subscriptionId: '' }, { status: err.status, body: err.body });
    if (verdict.kind === 'throttled') return { ...verdict, retryAfterMs: retryAfterMs(err.headers) ?? 1000 };
    if (verdict.kind === 'retry') return { ...verdict, retryAfterMs: retryAfterMs(err.headers) };
    // A 401 may be a token that expired in flight (the cache is already dropped); other 4xx are ours.
    return { kind: 'retry', retryAfterMs: null, status: err.status, code: err.status === 401 ? 'InvalidAuthenticationToken' : `HTTP_${err.status}`, message: err.message };
  }
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  return {
    kind: 'retry',
    retryAfterMs: null,
    status: 0,
    code: timedOut ? 'Timeout' : 'NetworkError',
    message: timedOut ? 'Graph did not answer in time.' : `Graph could not be reached: ${err instanceof Error ? err.message : String(err)}`,
  };
}

export function createMailProvider(config: Config, secrets: SecretSource, options: MailProviderOptions = {}): MailProvider {
  const credential = options.credential ? new CachedCredential(options.credential) : createGraphCredential(config, secrets, options.fetch);
  return new GraphMailProvider(
    config.GRAPH_BASE_URL,
    config.GRAPH_NOTIFICATION_URL,
    credential,
    options.limiter ?? defaultWriteLimiter(config),
    options.mailboxes ?? defaultMailboxSemaphore(),
    options.listLimiter ?? defaultListLimiter(),
    options,
  );
}
