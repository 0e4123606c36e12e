/**
 * The Microsoft Graph MailProvider: subscription writes sent as $batch requests of
 * up to 20, paced by the shared write limiter, at most 4 in flight per mailbox and a
 * bounded number of batches in flight. Every operation ends with a result: Graph's
 * per-request 429s are retried after their own Retry-After, transient failures a few
 * times with backoff, and nothing is thrown for one operation's failure.
 */
import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../config';
import { NOT_STARTED, type ApplyOptions, type MailOperation, type MailOperationResult, type MailProvider, type ProviderSubscription, type SecretSource } from '../../ports';
import { CachedCredential, createGraphCredential, GRAPH_SCOPE, TokenRequestError, type RefreshableCredential } from './credential';
import { defaultListLimiter, defaultMailboxSemaphore, defaultWriteLimiter, type KeyedSemaphore, type WriteLimiter } from './limiter';
import { classify, retryAfterMs, toBatchRequest, unavailable, type BatchResponse, type Verdict } from './operations';
import type { TenantShare } from './share';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface MailProviderOptions {
  credential?: TokenCredential;
  fetch?: typeof fetch;
  limiter?: WriteLimiter;
  /** divides the tenant's write limit among scaled-out instances (refreshed before each apply) */
  share?: TenantShare;
  /** paces the subscription list (Graph: 25 calls per 20 s per app per tenant) */
  listLimiter?: WriteLimiter;
  /** divides the tenant's list budget among scaled-out instances, like `share` for writes */
  listShare?: TenantShare;
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

const notStarted = (): MailOperationResult => ({
  ok: false,
  failure: 'transient',
  status: 0,
  code: NOT_STARTED,
  message: 'Not started before the time budget ran out; it continues in the next message.',
});

interface SubscriptionListPage {
  value?: Array<{ id?: unknown; resource?: unknown; notificationUrl?: unknown; expirationDateTime?: unknown }>;
  '@odata.nextLink'?: string;
}

interface Work {
  index: number;
  op: MailOperation;
  throttled: number;
  failures: number;
  /** 401s seen (one more try with a fresh token is allowed) */
  unauthorized: number;
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
  private readonly listShare: TenantShare | undefined;
  /** employee (mailbox) → until when Graph asked us to leave it alone */
  private readonly mailboxHolds = new Map<string, number>();

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
    this.listShare = options.listShare;
    this.maxBatches = options.maxBatchesInFlight ?? 8;
    this.maxThrottled = options.maxThrottledAttempts ?? 8;
    this.maxRetries = options.maxTransientRetries ?? 3;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async apply(operations: MailOperation[], options: ApplyOptions = {}): Promise<MailOperationResult[]> {
    if (operations.length > 0) await this.share?.refresh();
    const results: MailOperationResult[] = new Array<MailOperationResult>(operations.length);
    const queue: Work[] = operations.map((op, index) => ({ index, op, throttled: 0, failures: 0, unauthorized: 0, notBefore: 0 }));
    const inFlight = new Set<Promise<void>>();
    const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    while (queue.length > 0 || inFlight.size > 0) {
      if (queue.length > 0 && Date.now() >= deadline) {
        // Out of time: what has not been sent goes back to the caller; what is in flight finishes.
        for (const work of queue.splice(0)) results[work.index] = notStarted();
        continue;
      }
      // A long apply keeps this instance's heartbeat fresh, so the others keep their shares narrow (one beat per interval).
      await this.share?.refresh();
      const batch = inFlight.size < this.maxBatches ? this.takeBatch(queue) : [];
      if (batch.length > 0) {
        // A batch starts when the limiter grants it. One whose grant would come after the deadline
        // does not start: it goes back, and the deadline check above hands everything left back.
        if (Number.isFinite(deadline) && Date.now() + this.limiter.waitMs(batch.length) >= deadline) {
          for (const work of batch) this.mailboxes.release(work.op.employeeId);
          queue.unshift(...batch);
          for (const work of queue.splice(0)) results[work.index] = notStarted();
          continue;
        }
        await this.limiter.acquire(batch.length);
        const sent: Promise<void> = this.send(batch, queue, results).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      } else {
        await this.nextChange(queue, inFlight, deadline);
      }
    }
    return results;
  }

  writesPerSecond(): number {
    return this.limiter.limit / (this.limiter.windowMs / 1000);
  }

  async listSubscriptions(cursor: string | null): Promise<{ items: ProviderSubscription[]; next: string | null }> {
    // Only Graph's own nextLink is followed: a cursor pointing elsewhere would carry our token away.
    const url = cursor && cursor.startsWith(`${this.baseUrl}/subscriptions`) ? cursor : `${this.baseUrl}/subscriptions`;
    const page = await this.listPage(url);
    const items = (page.value ?? []).flatMap((sub): ProviderSubscription[] =>
      typeof sub.id === 'string' && typeof sub.resource === 'string'
        ? [
            {
              id: sub.id,
              resource: sub.resource.replace(/^\//, ''),
              notificationUrl: typeof sub.notificationUrl === 'string' ? sub.notificationUrl : null,
              expiresAt: typeof sub.expirationDateTime === 'string' ? sub.expirationDateTime : null,
            },
          ]
        : [],
    );
    return { items, next: page['@odata.nextLink'] ?? null };
  }

  /** One page of GET /subscriptions, waiting out 429s a bounded number of times; throws otherwise. */
  private async listPage(url: string): Promise<SubscriptionListPage> {
    for (let attempt = 0; ; attempt++) {
      await this.listShare?.refresh();
      await this.listLimiter.acquire(1);
      const { token } = await this.credential.getToken(GRAPH_SCOPE);
      const response = await this.fetchImpl(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      const body: unknown = await response.json().catch(() => null);
      if (response.ok) return (body ?? {});
      if (response.status === 401) this.credential.invalidate();
      const wait = response.status === 429 ? (retryAfterMs(response.headers) ?? 1000) : null;
      if (wait === null || attempt >= this.maxThrottled) throw new Error(`Graph subscription list answered ${response.status}`);
      this.listLimiter.pause(wait);
    }
  }

  /** Up to 20 operations that are due and whose mailbox has a free slot and is not held back; they leave the queue. */
  private takeBatch(queue: Work[]): Work[] {
    const now = this.now();
    const batch: Work[] = [];
    // A batch is granted by the limiter in one piece, so it cannot be larger than the limit.
    const size = Math.min(MAX_BATCH, this.limiter.limit);
    for (let i = 0; i < queue.length && batch.length < size; ) {
      const work = queue[i] as Work;
      if (work.notBefore <= now && this.mailboxFree(work.op.employeeId, now) && this.mailboxes.tryAcquire(work.op.employeeId)) {
        batch.push(work);
        queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  /** A mailbox Graph throttled is held back until its Retry-After; the others go on. */
  private mailboxFree(key: string, now: number): boolean {
    const until = this.mailboxHolds.get(key);
    if (until === undefined) return true;
    if (until > now) return false;
    this.mailboxHolds.delete(key);
    return true;
  }

  /** Waits until something could let more work go: a batch ends, a retry falls due, a mailbox slot frees. */
  private async nextChange(queue: Work[], inFlight: Set<Promise<void>>, deadline = Number.POSITIVE_INFINITY): Promise<void> {
    const now = this.now();
    const waits: Array<Promise<unknown>> = [...inFlight, this.mailboxes.whenReleased()];
    // a retry due after the deadline must not hold the invocation: wake at the deadline to hand it back
    const untilDeadline = deadline - Date.now();
    // (a deadline past setTimeout's 24.8-day ceiling is as good as none)
    if (queue.length > 0 && untilDeadline < MAX_TIMER_MS) waits.push(this.sleep(Math.max(0, untilDeadline)));
    const due = queue.map((w) => Math.max(w.notBefore, this.mailboxHolds.get(w.op.employeeId) ?? 0)).filter((t) => t > now);
    if (due.length > 0) waits.push(this.sleep(Math.min(...due) - now));
    await Promise.race(waits);
  }

  private async send(batch: Work[], queue: Work[], results: MailOperationResult[]): Promise<void> {
    try {
      // The grant is taken in apply (so the deadline can refuse it); the token is usually cached.
      const token = await this.token();
      const responses = await this.postBatch(batch, token);
      const verdicts = batch.map((work, i): Verdict => {
        const answer = responses.get(String(i + 1));
        return answer ? classify(work.op, answer) : { kind: 'retry', retryAfterMs: null, status: 502, code: 'MissingBatchResponse', message: 'Graph returned no answer for this request.' };
      });
      // Every request of a batch spanning several mailboxes failing with 5xx is the service failing,
      // not these mailboxes; one mailbox's requests all failing is that mailbox's (charged) problem.
      const mailboxes = new Set(batch.map((w) => w.op.employeeId)).size;
      const tenantWide = mailboxes > 1 && verdicts.every((v) => v.kind === 'retry' && v.status >= 500);
      batch.forEach((work, i) => this.settle(work, verdicts[i] as Verdict, queue, results, tenantWide));
    } catch (err) {
      const verdict = verdictOfBatchFailure(err);
      for (const work of batch) this.settle(work, verdict, queue, results, true);
    } finally {
      for (const work of batch) this.mailboxes.release(work.op.employeeId);
    }
  }

  /**
   * One $batch call. `responses[]` is read whatever the batch's own status: Graph may answer a
   * batch holding throttled requests with 424, each inner 429 with its own Retry-After
   * (concepts/throttling.md). Only a batch without `responses[]` fails as a whole.
   */
  private async token(): Promise<string> {
    try {
      return (await this.credential.getToken(GRAPH_SCOPE)).token;
    } catch (err) {
      throw new CredentialFailure(err);
    }
  }

  private async postBatch(batch: Work[], token: string): Promise<Map<string, BatchResponse>> {
    const response = await this.fetchImpl(`${this.baseUrl}/$batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ requests: batch.map((w, i) => toBatchRequest(String(i + 1), w.op, this.notificationUrl)) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await response.json().catch(() => null)) as { responses?: BatchResponse[] } | null;
    if (response.status === 401) this.credential.invalidate();
    if (!Array.isArray(body?.responses)) throw new BatchFailure(response.status, response.headers, body);
    if (body.responses.some((r) => r.status === 401)) this.credential.invalidate();
    return new Map(body.responses.map((r) => [String(r.id), r]));
  }

  private settle(work: Work, verdict: Verdict, queue: Work[], results: MailOperationResult[], tenantWide: boolean): void {
    if (verdict.kind === 'done') {
      results[work.index] = verdict.result;
      return;
    }
    const delay = this.retryDelay(work, verdict);
    if (delay !== null) {
      work.notBefore = this.now() + delay;
      queue.push(work);
      return;
    }
    // Out of attempts: who is to blame decides whether the member is charged.
    const { status, code, message } = verdict;
    if (verdict.kind === 'reauthenticate') {
      results[work.index] = unavailable(verdict.code === CREDENTIALS_CODE ? 'CREDENTIALS' : 'UNAUTHORIZED', status, code, message);
      return;
    }
    if (verdict.kind === 'retry' && tenantWide) {
      results[work.index] = unavailable('SERVICE', status, code, message);
      return;
    }
    const retryAfter = verdict.retryAfterMs ?? undefined;
    results[work.index] = { ok: false, failure: 'transient', status, code, message, ...(retryAfter ? { retryAfterMs: retryAfter } : {}) };
  }

  /** ms before the next attempt, or null when the operation has used its attempts. */
  private retryDelay(work: Work, verdict: Retryable): number | null {
    if (verdict.kind === 'throttled') {
      if (verdict.scope === 'tenant') {
        // The tenant's write limit: hold every writer back, not just this one.
        this.limiter.pause(verdict.retryAfterMs);
      } else {
        // One mailbox's limit does not affect the others (throttling-limits.md, Outlook service limits).
        const key = work.op.employeeId;
        this.mailboxHolds.set(key, Math.max(this.mailboxHolds.get(key) ?? 0, this.now() + verdict.retryAfterMs));
      }
      work.throttled++;
      return work.throttled > this.maxThrottled ? null : verdict.retryAfterMs;
    }
    if (verdict.kind === 'reauthenticate') {
      // A token can expire in flight: one more try with a fresh one; a second refusal is the app's problem.
      work.unauthorized++;
      return verdict.code === CREDENTIALS_CODE || work.unauthorized > 1 ? null : 0;
    }
    work.failures++;
    if (work.failures > this.maxRetries) return null;
    const backoff = 250 * 2 ** (work.failures - 1) * (1 + Math.random() * 0.5);
    return Math.max(backoff, verdict.retryAfterMs ?? 0);
  }
}

const CREDENTIALS_CODE = 'CredentialUnavailable';

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

/** No token: the identity platform refused the app's credentials, or could not be reached. */
class CredentialFailure extends Error {
  constructor(readonly reason: unknown) {
    super(`No Graph token: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

function isTimeout(err: unknown): boolean {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}

function verdictOfBatchFailure(err: unknown): Verdict {
  if (err instanceof CredentialFailure) {
    const refused = err.reason instanceof TokenRequestError ? err.reason.status < 500 : /invalid_client|AADSTS/.test(err.message);
    // A refusal is the app's credentials; an unreachable identity platform is retried like Graph itself.
    return refused
      ? { kind: 'reauthenticate', status: err.reason instanceof TokenRequestError ? err.reason.status : 401, code: CREDENTIALS_CODE, message: err.message }
      : { kind: 'retry', retryAfterMs: null, status: 0, code: 'IdentityUnreachable', message: err.message };
  }
  if (err instanceof BatchFailure) {
    const verdict = classify({ kind: 'delete', employeeId: '', subscriptionId: '' }, { status: err.status, body: err.body });
    if (verdict.kind === 'throttled') return { ...verdict, scope: 'tenant', retryAfterMs: retryAfterMs(err.headers) ?? 1000 };
    if (verdict.kind === 'retry') return { ...verdict, retryAfterMs: retryAfterMs(err.headers) };
    if (verdict.kind === 'reauthenticate') return verdict;
    if (verdict.kind === 'done' && !verdict.result.ok && verdict.result.failure === 'unavailable') return verdict;
    // Other 4xx of the batch itself are ours: retried a bounded number of times.
    return { kind: 'retry', retryAfterMs: null, status: err.status, code: `HTTP_${err.status}`, message: err.message };
  }
  const timedOut = isTimeout(err);
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
