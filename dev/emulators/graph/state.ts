/**
 * The Graph emulator's core: its clock, tokens, faults, statistics, the live subscriptions
 * and the checks every Graph operation passes (throttling, latency, faults, mailbox access).
 * Route modules (subscriptions.ts, batch.ts, and those other issues add through modules.ts)
 * build on it; they never keep their own copy of these.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_FAULTS, type Faults } from './faults';
import { EmulatedMail } from './mail';
import { graphError, sleep, type GraphResponse } from './http';

export interface EmulatedSubscription {
  id: string;
  applicationId: string;
  mailbox: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  clientState: string | null;
  createdDateTime: string;
}

export interface DeliveryStats {
  /** deliveries attempted (change and lifecycle notifications) */
  sent: number;
  /** answered after the 2,900 ms "slow" mark (timed-out ones included) */
  slow: number;
  /** no answer within Graph's 3 s deadline */
  timedOut: number;
  /** answered with a non-2xx status, or not at all */
  failed: number;
  /** sent late because the endpoint was marked slow */
  delayed: number;
  /** dropped because the endpoint was marked drop (never recovered, as in Graph) */
  dropped: number;
  /** per notification URL: responses in the last 10 minutes, the slow share and the state it puts the endpoint in */
  endpoints: Array<{ url: string; responses: number; slowShare: number; state: 'normal' | 'slow' | 'drop' }>;
}

export interface EmulatorStats {
  /** subscription writes admitted (create, renew, delete, reauthorize) */
  writes: number;
  /** operations answered 429 (write limit, mailbox concurrency or request limit, list limit) */
  throttled: number;
  /** of which per-mailbox (ApplicationThrottled) */
  throttledMailbox: number;
  /** Graph operations received (each $batch sub-request counts) */
  requests: number;
  /** most operations ever asked of one mailbox at once: those in flight plus the arriving one (even when refused) */
  maxConcurrentPerMailbox: number;
  /** token requests refused because the fault `credentials: expired` holds */
  tokensRefused: number;
  delivery: DeliveryStats;
}

export interface Caller {
  applicationId: string;
}

export interface StateOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  now: () => number;
  writeLimit: number;
  writeWindowSeconds: number;
  subscriptionsPerMailbox: number;
  /** requests per app per mailbox per 10 minutes (Graph: 10,000) */
  mailboxRequestLimit: number;
  /** the development flag: accept http:// notification URLs (Graph accepts https only) */
  allowHttpNotificationUrls: boolean;
  faults: Partial<Faults>;
}

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const TOKEN_LIFETIME_SECONDS = 3599;
/** throttling-limits.md, "Outlook service limits": per app per mailbox */
export const MAILBOX_CONCURRENCY = 4;
export const MAILBOX_REQUEST_LIMIT = 10_000;
export const MAILBOX_REQUEST_WINDOW_MS = 10 * 60_000;
/** includes/throttling-subscription-services.md: list calls per app per tenant */
export const LIST_LIMIT = 25;
export const LIST_WINDOW_MS = 20_000;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
export const secretsEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** Sliding-window counter on the emulator clock. */
export class SlidingWindow {
  private times: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  /** Records a hit and returns 0, or returns the seconds until a slot frees. */
  admit(now: number): number {
    this.times = this.times.filter((t) => t > now - this.windowMs);
    if (this.times.length < this.limit) {
      this.times.push(now);
      return 0;
    }
    return Math.max(0.001, ((this.times[0] ?? now) + this.windowMs - now) / 1000);
  }
}

const emptyDelivery = (): DeliveryStats => ({ sent: 0, slow: 0, timedOut: 0, failed: 0, delayed: 0, dropped: 0, endpoints: [] });
const emptyStats = (): Omit<EmulatorStats, 'delivery'> => ({
  writes: 0,
  throttled: 0,
  throttledMailbox: 0,
  requests: 0,
  maxConcurrentPerMailbox: 0,
  tokensRefused: 0,
});

export class GraphEmulatorState {
  readonly tenantId: string;
  readonly subscriptionsPerMailbox: number;
  readonly allowHttpNotificationUrls: boolean;
  private readonly mailboxRequestLimit: number;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly baseNow: () => number;
  private clockOffsetMs = 0;
  private faults: Faults = { ...DEFAULT_FAULTS };
  /** live subscriptions by id; subscriptions.ts is the only writer */
  readonly subs = new Map<string, EmulatedSubscription>();
  /** sha256(token) → expiry and app; tokens themselves are never kept */
  private readonly tokens = new Map<string, { applicationId: string; expiresAt: number }>();
  private readonly writeWindow: SlidingWindow;
  readonly listWindow = new SlidingWindow(LIST_LIMIT, LIST_WINDOW_MS);
  private readonly mailboxWindows = new Map<string, SlidingWindow>();
  private readonly inFlight = new Map<string, number>();
  counters = emptyStats();
  /** what sendMail sent (mailRoutes.ts) */
  readonly mail = new EmulatedMail();
  delivery = emptyDelivery();

  constructor(options: StateOptions) {
    this.tenantId = options.tenantId;
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.baseNow = options.now;
    this.subscriptionsPerMailbox = options.subscriptionsPerMailbox;
    this.allowHttpNotificationUrls = options.allowHttpNotificationUrls;
    this.mailboxRequestLimit = options.mailboxRequestLimit;
    this.writeWindow = new SlidingWindow(options.writeLimit, options.writeWindowSeconds * 1000);
    this.setFaults(options.faults);
  }

  now(): number {
    return this.baseNow() + this.clockOffsetMs;
  }
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }
  setFaults(faults: Partial<Faults>): void {
    this.faults = { ...this.faults, ...faults };
  }
  currentFaults(): Faults {
    return this.faults;
  }
  resetStats(): void {
    this.counters = emptyStats();
    this.delivery = emptyDelivery();
  }

  live(): EmulatedSubscription[] {
    this.expire();
    return [...this.subs.values()].map((s) => ({ ...s }));
  }
  find(id: string): EmulatedSubscription | undefined {
    this.expire();
    return this.subs.get(id);
  }
  remove(id: string): boolean {
    return this.subs.delete(id);
  }
  private expire(): void {
    const now = this.now();
    for (const [id, sub] of this.subs) if (Date.parse(sub.expirationDateTime) <= now) this.subs.delete(id);
  }

  // ------------------------------------------------------------ tokens (identity platform, client credentials grant)

  issueToken(tenant: string, form: URLSearchParams): GraphResponse {
    const oauthError = (status: number, error: string, description: string): GraphResponse => ({
      status,
      body: { error, error_description: description },
    });
    if (tenant !== this.tenantId) return oauthError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
    const clientId = form.get('client_id') ?? '';
    const secret = form.get('client_secret') ?? '';
    if (clientId !== this.clientId || !secretsEqual(secret, this.clientSecret)) {
      return oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    if (this.faults.credentials === 'expired') {
      this.counters.tokensRefused++;
      return oauthError(401, 'invalid_client', `AADSTS7000222: The provided client secret keys for app '${clientId}' are expired.`);
    }
    if (form.get('scope') !== GRAPH_SCOPE) return oauthError(400, 'invalid_scope', `AADSTS70011: The scope must be ${GRAPH_SCOPE}.`);
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(digest(token).toString('hex'), { applicationId: clientId, expiresAt: this.now() + TOKEN_LIFETIME_SECONDS * 1000 });
    return { status: 200, body: { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS, ext_expires_in: TOKEN_LIFETIME_SECONDS, access_token: token } };
  }

  authenticate(header: string | undefined): Caller | null {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match?.[1]) return null;
    const entry = this.tokens.get(digest(match[1]).toString('hex'));
    if (!entry || entry.expiresAt <= this.now()) return null;
    return { applicationId: entry.applicationId };
  }

  // ------------------------------------------------------------ the checks every operation passes

  /**
   * In Graph's order: per-mailbox concurrency and request rate, then the tenant's write limit,
   * on arrival; then service latency, transient faults, the app's permission and the mailbox's
   * own access. `mailbox` is null for calls about no mailbox (the subscription list).
   */
  async guarded(caller: Caller, mailbox: string | null, write: boolean, action: () => Promise<GraphResponse> | GraphResponse): Promise<GraphResponse> {
    const key = mailbox ? `${caller.applicationId}|${mailbox}` : null;
    const inFlight = key ? (this.inFlight.get(key) ?? 0) + 1 : 0;
    this.counters.maxConcurrentPerMailbox = Math.max(this.counters.maxConcurrentPerMailbox, inFlight);
    if (key) {
      // throttling-limits.md, "Outlook service limits": 4 concurrent requests per app per mailbox ...
      if (inFlight > MAILBOX_CONCURRENCY) return this.throttled('ApplicationThrottled', 1, 'Application is over its MailboxConcurrency limit.', true);
      // ... and 10,000 requests per 10 minutes; one mailbox's limit does not affect the others.
      let window = this.mailboxWindows.get(key);
      if (!window) this.mailboxWindows.set(key, (window = new SlidingWindow(this.mailboxRequestLimit, MAILBOX_REQUEST_WINDOW_MS)));
      const wait = window.admit(this.now());
      if (wait > 0) return this.throttled('ApplicationThrottled', wait, 'Application is over its request limit for this mailbox.', true);
    }
    if (write) {
      // includes/throttling-subscription-services.md: 500 subscription writes per 20 s per app per tenant.
      const retryAfter = this.writeWindow.admit(this.now());
      if (retryAfter > 0) return this.throttled('TooManyRequests', retryAfter, 'Subscription write limit reached for this tenant.', false);
      this.counters.writes++;
    }
    if (key) this.inFlight.set(key, inFlight);
    try {
      await this.latency();
      if (Math.random() < this.faults.errorRate) {
        return graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.', { 'Retry-After': '1' });
      }
      if (mailbox && this.faults.appPermission === 'revoked') {
        return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      }
      const denied = mailbox ? this.mailboxFault(mailbox) : null;
      return denied ?? (await action());
    } finally {
      if (key) {
        const left = (this.inFlight.get(key) ?? 1) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
      }
    }
  }

  throttled(code: string, retryAfterSeconds: number, message: string, mailbox: boolean): GraphResponse {
    this.counters.throttled++;
    if (mailbox) this.counters.throttledMailbox++;
    return graphError(429, code, message, { 'Retry-After': retryAfterSeconds.toFixed(3) });
  }

  private async latency(): Promise<void> {
    const [min, max] = this.faults.latencyMs;
    const ms = min + Math.random() * Math.max(0, max - min);
    if (ms > 0) await sleep(ms);
  }

  private mailboxFault(mailbox: string): GraphResponse | null {
    const local = mailbox.split('@')[0] ?? '';
    const listed = (list: string[]): boolean => list.some((m) => m.toLowerCase() === mailbox);
    if (local.startsWith('missing-') || listed(this.faults.missingMailboxes)) {
      return graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
    }
    if (local.startsWith('forbidden-') || listed(this.faults.forbiddenMailboxes)) {
      return graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    }
    return null;
  }
}
