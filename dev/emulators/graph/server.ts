/**
 * A Microsoft Graph emulator for the change-notification subscription API, close
 * enough to the real service that the production client runs against it unchanged:
 * client-credentials tokens, POST/GET/PATCH/DELETE /subscriptions with the
 * validation handshake, expiry, $batch, the published throttling with 429 +
 * Retry-After, change and lifecycle notifications, and injectable faults.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { listenOnLoopback } from '../../support/listen';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { EmulatedMail, mailControlRoutes, sendMailSender, type SentMail } from './mail';

export interface Faults {
  /** every Graph operation waits a random time in [min, max] ms */
  latencyMs: [number, number];
  /** share of Graph operations answered with a transient 503 (0..1) */
  errorRate: number;
  /** mailboxes answering 404 MailboxNotEnabledForRESTAPI (besides local parts starting with `missing-`) */
  missingMailboxes: string[];
  /** mailboxes answering 403 ErrorAccessDenied (besides local parts starting with `forbidden-`) */
  forbiddenMailboxes: string[];
}

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

export interface EmulatorStats {
  /** subscription writes admitted (create, renew, delete) */
  writes: number;
  /** operations answered 429 (write limit, mailbox concurrency, list limit) */
  throttled: number;
  /** Graph operations received (each $batch sub-request counts) */
  requests: number;
  /** most operations ever asked of one mailbox at once: those in flight plus the arriving one (even when refused) */
  maxConcurrentPerMailbox: number;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface GraphEmulatorOptions {
  port?: number;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  now?: () => number;
  faults?: Partial<Faults>;
  writeLimit?: number;
  writeWindowSeconds?: number;
  /** how long the notification endpoint has to answer the validation handshake (Graph: 10 s) */
  validationTimeoutMs?: number;
}

export interface GraphEmulator {
  /** base URL; Graph is under url + '/v1.0', tokens under url + '/{tenant}/oauth2/v2.0/token' */
  url: string;
  port: number;
  stop(): Promise<void>;
  setFaults(faults: Partial<Faults>): void;
  /** live subscriptions, including clientState (for tests) */
  subscriptions(): EmulatedSubscription[];
  sendChangeNotification(subscriptionId: string, changeType?: string): Promise<number>;
  sendLifecycleEvent(subscriptionId: string, event: LifecycleEvent): Promise<number>;
  /** Removes a subscription as Graph does on its own; false when there was none. */
  removeSubscription(id: string): boolean;
  /** Moves the emulator clock forward (expiry, token lifetime, throttling windows). */
  advanceClock(ms: number): void;
  stats(): EmulatorStats;
  resetStats(): void;
  /** what sendMail sent (also GET /emulator/mail) */
  sentMail(): SentMail[];
}

export const GRAPH_EMULATOR_DEFAULTS = {
  tenantId: 'local-tenant',
  clientId: 'connect-graph-local',
  clientSecret: 'local-graph-secret',
} as const;

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const TOKEN_LIFETIME_SECONDS = 3599;
const MAX_LIFETIME_MS = 10080 * 60_000;
const MAILBOX_CONCURRENCY = 4;
const LIST_LIMIT = 25;
const LIST_WINDOW_MS = 20_000;
const MAX_BATCH = 20;
const MAX_BODY_BYTES = 1024 * 1024;

interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Caller {
  applicationId: string;
}

/** The subset of a subscription the service may see (Graph never returns clientState on reads). */
function publicView(sub: EmulatedSubscription, includeClientState = false): Record<string, unknown> {
  return {
    id: sub.id,
    resource: sub.resource,
    applicationId: sub.applicationId,
    changeType: sub.changeType,
    clientState: includeClientState ? sub.clientState : null,
    notificationUrl: sub.notificationUrl,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
    expirationDateTime: sub.expirationDateTime,
    creatorId: sub.applicationId,
    includeResourceData: false,
    latestSupportedTlsVersion: 'v1_2',
  };
}

function graphError(status: number, code: string, message: string, headers?: Record<string, string>): GraphResponse {
  return { status, headers, body: { error: { code, message } } };
}

const RESOURCE = /^\/?users\/([^/]+)\/(events|contacts|messages)$/i;
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time');
const httpUrl = z.url({ protocol: /^https?$/ });
const changeTypes = z
  .string()
  .refine((s) => s.split(',').every((t) => ['created', 'updated', 'deleted'].includes(t.trim())), 'created, updated and/or deleted');
const createBody = z.object({
  changeType: changeTypes,
  notificationUrl: httpUrl,
  lifecycleNotificationUrl: httpUrl.optional(),
  resource: z.string().regex(RESOURCE, '/users/{mailbox}/events|contacts|messages'),
  expirationDateTime: isoDate,
  clientState: z.string().max(128).optional(),
});
const renewBody = z.object({ expirationDateTime: isoDate });

const batchBody = z.object({
  requests: z
    .array(
      z.object({
        id: z.string().min(1),
        method: z.enum(['GET', 'POST', 'PATCH', 'DELETE']),
        url: z.string().min(1),
        headers: z.record(z.string(), z.string()).optional(),
        body: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(MAX_BATCH)
    .refine((rs) => new Set(rs.map((r) => r.id)).size === rs.length, 'request ids must be unique'),
});

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
const secretsEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** Sliding-window counter on the emulator clock. */
class SlidingWindow {
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

function mailboxOf(resource: string): string {
  return (RESOURCE.exec(resource)?.[1] ?? '').toLowerCase();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return Symbol.for('invalid-json');
  }
}

function send(res: ServerResponse, response: GraphResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end();
    return;
  }
  headers['content-type'] = 'application/json';
  res.writeHead(response.status, headers).end(JSON.stringify(response.body));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class GraphEmulatorState {
  readonly tenantId: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly baseNow: () => number;
  private clockOffsetMs = 0;
  private faults: Faults = { latencyMs: [0, 0], errorRate: 0, missingMailboxes: [], forbiddenMailboxes: [] };
  private readonly subs = new Map<string, EmulatedSubscription>();
  /** sha256(token) → expiry and app; tokens themselves are never kept */
  private readonly tokens = new Map<string, { applicationId: string; expiresAt: number }>();
  private readonly writeWindow: SlidingWindow;
  private readonly listWindow = new SlidingWindow(LIST_LIMIT, LIST_WINDOW_MS);
  private readonly inFlight = new Map<string, number>();
  private counters: EmulatorStats = { writes: 0, throttled: 0, requests: 0, maxConcurrentPerMailbox: 0 };
  private readonly validationTimeoutMs: number;
  readonly mail = new EmulatedMail();

  constructor(options: GraphEmulatorOptions) {
    this.tenantId = options.tenantId ?? GRAPH_EMULATOR_DEFAULTS.tenantId;
    this.clientId = options.clientId ?? GRAPH_EMULATOR_DEFAULTS.clientId;
    this.clientSecret = options.clientSecret ?? GRAPH_EMULATOR_DEFAULTS.clientSecret;
    this.baseNow = options.now ?? Date.now;
    this.writeWindow = new SlidingWindow(options.writeLimit ?? 500, (options.writeWindowSeconds ?? 20) * 1000);
    this.validationTimeoutMs = options.validationTimeoutMs ?? 10_000;
    this.setFaults(options.faults ?? {});
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
  stats(): EmulatorStats {
    return { ...this.counters };
  }
  resetStats(): void {
    this.counters = { writes: 0, throttled: 0, requests: 0, maxConcurrentPerMailbox: 0 };
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

  // ------------------------------------------------------------ tokens

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

  // ------------------------------------------------------------ Graph operations

  /** One Graph operation, as a direct call or as a $batch sub-request. */
  async operation(caller: Caller, method: string, path: string, body: unknown): Promise<GraphResponse> {
    this.counters.requests++;
    const route = /^\/subscriptions(?:\/([^/?]+))?\/?(?:\?.*)?$/.exec(path);
    if (!route) return graphError(400, 'BadRequest', `Unsupported resource '${path}'.`);
    const id = route[1] ? decodeURIComponent(route[1]) : undefined;
    if (!id && method === 'POST') return this.guarded(caller, mailboxOfBody(body), true, () => this.create(caller, body));
    if (!id && method === 'GET') return this.list(caller);
    if (id && ['GET', 'PATCH', 'DELETE'].includes(method)) {
      const sub = this.owned(caller, id);
      const write = method !== 'GET';
      return this.guarded(caller, sub?.mailbox ?? null, write, () => {
        if (!this.owned(caller, id)) return Promise.resolve(graphError(404, 'ResourceNotFound', `The subscription '${id}' was not found.`));
        if (method === 'GET') return Promise.resolve({ status: 200, body: publicView(this.owned(caller, id) as EmulatedSubscription) });
        return Promise.resolve(method === 'PATCH' ? this.renew(id, body) : this.delete(id));
      });
    }
    return graphError(405, 'MethodNotAllowed', `${method} is not allowed on '${path}'.`);
  }

  private owned(caller: Caller, id: string): EmulatedSubscription | undefined {
    const sub = this.find(id);
    return sub && sub.applicationId === caller.applicationId ? sub : undefined;
  }

  /**
   * The checks every operation passes in Graph's order: mailbox concurrency and the
   * write limit on arrival, then service latency, transient faults and mailbox access.
   */
  private async guarded(caller: Caller, mailbox: string | null, write: boolean, action: () => Promise<GraphResponse>): Promise<GraphResponse> {
    const key = mailbox ? `${caller.applicationId}|${mailbox}` : null;
    const inFlight = key ? (this.inFlight.get(key) ?? 0) + 1 : 0;
    this.counters.maxConcurrentPerMailbox = Math.max(this.counters.maxConcurrentPerMailbox, inFlight);
    if (key && inFlight > MAILBOX_CONCURRENCY) {
      return this.throttled('ApplicationThrottled', 1, `More than ${MAILBOX_CONCURRENCY} concurrent requests for this mailbox.`);
    }
    if (write) {
      const retryAfter = this.writeWindow.admit(this.now());
      if (retryAfter > 0) return this.throttled('TooManyRequests', retryAfter, 'Subscription write limit reached for this tenant.');
      this.counters.writes++;
    }
    if (key) this.inFlight.set(key, inFlight);
    try {
      await this.latency();
      if (Math.random() < this.faults.errorRate) {
        return graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.', { 'Retry-After': '1' });
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

  private throttled(code: string, retryAfterSeconds: number, message: string): GraphResponse {
    this.counters.throttled++;
    return graphError(429, code, message, { 'Retry-After': retryAfterSeconds.toFixed(3) });
  }

  private async latency(): Promise<void> {
    const [min, max] = this.faults.latencyMs;
    const ms = min + Math.random() * Math.max(0, max - min);
    if (ms > 0) await sleep(ms);
  }

  mailboxFault(mailbox: string): GraphResponse | null {
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

  private expirationProblem(iso: string): GraphResponse | null {
    const at = Date.parse(iso);
    const now = this.now();
    if (at <= now) return graphError(400, 'InvalidRequest', 'expirationDateTime must be in the future.');
    if (at > now + MAX_LIFETIME_MS) {
      return graphError(400, 'InvalidRequest', 'expirationDateTime exceeds the maximum of 10080 minutes for this resource.');
    }
    return null;
  }

  private async create(caller: Caller, body: unknown): Promise<GraphResponse> {
    const parsed = createBody.safeParse(body);
    if (!parsed.success) return graphError(400, 'InvalidRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const input = parsed.data;
    const expiry = this.expirationProblem(input.expirationDateTime);
    if (expiry) return expiry;
    const resource = input.resource.replace(/^\//, '');
    const changeType = input.changeType.split(',').map((t) => t.trim()).sort().join(',');
    const duplicate = [...this.subs.values()].some(
      (s) => s.applicationId === caller.applicationId && s.resource.toLowerCase() === resource.toLowerCase() && s.changeType === changeType,
    );
    if (duplicate) return graphError(409, 'Conflict', 'A subscription for this resource and change type already exists.');
    const urls = [...new Set([input.notificationUrl, input.lifecycleNotificationUrl].filter((u): u is string => !!u))];
    for (const url of urls) {
      if (!(await this.validateEndpoint(url))) {
        return graphError(400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
      }
    }
    const sub: EmulatedSubscription = {
      id: randomUUID(),
      applicationId: caller.applicationId,
      mailbox: mailboxOf(input.resource),
      resource,
      changeType,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl ?? null,
      expirationDateTime: new Date(Date.parse(input.expirationDateTime)).toISOString(),
      clientState: input.clientState ?? null,
      createdDateTime: new Date(this.now()).toISOString(),
    };
    this.subs.set(sub.id, sub);
    return { status: 201, body: publicView(sub, true) };
  }

  /** Graph's handshake: the endpoint must echo the URL-decoded token as text/plain, in time. */
  private async validateEndpoint(url: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()} &+%/?#=`;
    const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.timeout(this.validationTimeoutMs),
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      return response.status === 200 && type.toLowerCase().startsWith('text/plain') && text === token;
    } catch {
      return false;
    }
  }

  private renew(id: string, body: unknown): GraphResponse {
    const parsed = renewBody.safeParse(body);
    if (!parsed.success) return graphError(400, 'InvalidRequest', 'expirationDateTime: an ISO 8601 date-time is required');
    const expiry = this.expirationProblem(parsed.data.expirationDateTime);
    if (expiry) return expiry;
    const sub = this.subs.get(id) as EmulatedSubscription;
    sub.expirationDateTime = new Date(Date.parse(parsed.data.expirationDateTime)).toISOString();
    return { status: 200, body: publicView(sub) };
  }

  private delete(id: string): GraphResponse {
    this.subs.delete(id);
    return { status: 204 };
  }

  private list(caller: Caller): GraphResponse {
    const retryAfter = this.listWindow.admit(this.now());
    if (retryAfter > 0) return this.throttled('TooManyRequests', retryAfter, 'Subscription list limit reached for this tenant.');
    return { status: 200, body: { value: this.live().filter((s) => s.applicationId === caller.applicationId).map((s) => publicView(s)) } };
  }

  async batch(caller: Caller, body: unknown): Promise<GraphResponse> {
    const parsed = batchBody.safeParse(body);
    if (!parsed.success) return graphError(400, 'BadRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    // Graph runs sub-requests without dependsOn in any order, in parallel.
    const responses = await Promise.all(
      parsed.data.requests.map(async (r) => {
        const path = r.url.startsWith('/') ? r.url : `/${r.url}`;
        const answer = await this.operation(caller, r.method, path, r.body);
        return { id: r.id, status: answer.status, headers: { 'Content-Type': 'application/json', ...answer.headers }, body: answer.body ?? null };
      }),
    );
    return { status: 200, body: { responses } };
  }

  // ------------------------------------------------------------ outbound notifications

  async notify(subscriptionId: string, changeType: string): Promise<number> {
    const sub = this.requireLive(subscriptionId);
    const itemId = randomBytes(12).toString('base64url');
    const [, mailbox, kind] = RESOURCE.exec(sub.resource) ?? [];
    const collection = (kind ?? '').charAt(0).toUpperCase() + (kind ?? '').slice(1);
    return this.post(sub.notificationUrl, {
      value: [
        {
          subscriptionId: sub.id,
          clientState: sub.clientState,
          changeType,
          resource: `Users/${mailbox}/${collection}/${itemId}`,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          resourceData: { '@odata.type': `#Microsoft.Graph.${collection.replace(/s$/, '')}`, '@odata.id': `Users/${mailbox}/${collection}/${itemId}`, id: itemId },
          tenantId: this.tenantId,
        },
      ],
    });
  }

  async lifecycle(subscriptionId: string, event: LifecycleEvent): Promise<number> {
    const sub = this.requireLive(subscriptionId);
    // Graph stops delivering once it has removed a subscription; the event is the last word.
    if (event === 'subscriptionRemoved') this.subs.delete(sub.id);
    return this.post(sub.lifecycleNotificationUrl ?? sub.notificationUrl, {
      value: [
        {
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          tenantId: this.tenantId,
          clientState: sub.clientState,
          lifecycleEvent: event,
        },
      ],
    });
  }

  private requireLive(id: string): EmulatedSubscription {
    const sub = this.find(id);
    if (!sub) throw new UnknownSubscriptionError(id);
    return sub;
  }

  private async post(url: string, payload: unknown): Promise<number> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.validationTimeoutMs),
    });
    await response.arrayBuffer();
    return response.status;
  }
}

export class UnknownSubscriptionError extends Error {
  constructor(readonly subscriptionId: string) {
    super(`no live subscription ${subscriptionId}`);
  }
}

function mailboxOfBody(body: unknown): string | null {
  const resource = typeof body === 'object' && body !== null ? (body as { resource?: unknown }).resource : undefined;
  return typeof resource === 'string' && RESOURCE.test(resource) ? mailboxOf(resource) : null;
}

// ------------------------------------------------------------ HTTP layer

const faultsBody = z
  .object({
    latencyMs: z.tuple([z.number().min(0), z.number().min(0)]),
    errorRate: z.number().min(0).max(1),
    missingMailboxes: z.array(z.string()),
    forbiddenMailboxes: z.array(z.string()),
  })
  .partial();
const notifyBody = z.object({ subscriptionId: z.string().min(1), changeType: z.string().min(1).default('updated') });
const lifecycleBody = z.object({
  subscriptionId: z.string().min(1),
  event: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
});
const clockBody = z.object({ offsetMs: z.number() });

type Route = (state: GraphEmulatorState, req: IncomingMessage, body: string) => Promise<GraphResponse>;

/** Parses a JSON control body with a schema; a bad one is a 400, not a crash. */
function withJson<T>(schema: z.ZodType<T>, run: (state: GraphEmulatorState, input: T) => Promise<GraphResponse> | GraphResponse): Route {
  return async (state, _req, text) => {
    const parsed = schema.safeParse(parseJson(text) ?? {});
    if (!parsed.success) return graphError(400, 'BadRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return run(state, parsed.data);
  };
}

/** Outbound calls answer with the service's status; a dead endpoint is a 502. */
async function relay(call: () => Promise<number>): Promise<GraphResponse> {
  try {
    return { status: 200, body: { status: await call() } };
  } catch (err) {
    if (err instanceof UnknownSubscriptionError) return graphError(404, 'ResourceNotFound', err.message);
    return graphError(502, 'DeliveryFailed', err instanceof Error ? err.message : 'delivery failed');
  }
}

const controlRoutes: Record<string, Route> = {
  ...mailControlRoutes((state: GraphEmulatorState) => state.mail),
  'POST /emulator/faults': withJson(faultsBody, (state, faults) => {
    state.setFaults(faults as Partial<Faults>);
    return { status: 200, body: state.currentFaults() };
  }),
  'GET /emulator/subscriptions': (state) => Promise.resolve({ status: 200, body: { value: state.live() } }),
  'GET /emulator/stats': (state) => Promise.resolve({ status: 200, body: state.stats() }),
  'POST /emulator/stats/reset': (state) => {
    state.resetStats();
    return Promise.resolve({ status: 204 });
  },
  'POST /emulator/notify': withJson(notifyBody, (state, input) => relay(() => state.notify(input.subscriptionId, input.changeType))),
  'POST /emulator/lifecycle': withJson(lifecycleBody, (state, input) => relay(() => state.lifecycle(input.subscriptionId, input.event))),
  'POST /emulator/clock': withJson(clockBody, (state, input) => {
    state.advanceClock(input.offsetMs);
    return { status: 200, body: { now: new Date(state.now()).toISOString() } };
  }),
};

async function route(state: GraphEmulatorState, req: IncomingMessage, text: string): Promise<GraphResponse> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const method = req.method ?? 'GET';
  const control = controlRoutes[`${method} ${url.pathname}`];
  if (control) return control(state, req, text);

  const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
  if (token?.[1] && method === 'POST') return state.issueToken(decodeURIComponent(token[1]), new URLSearchParams(text));

  if (!url.pathname.startsWith('/v1.0/')) return graphError(404, 'NotFound', `No route for ${method} ${url.pathname}`);
  const caller = state.authenticate(req.headers.authorization);
  if (!caller) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty, invalid or expired.');
  const body = parseJson(text);
  if (typeof body === 'symbol') return graphError(400, 'BadRequest', 'The request body is not valid JSON.');
  const path = url.pathname.slice('/v1.0'.length) + url.search;
  if (path === '/$batch' && method === 'POST') return state.batch(caller, body);
  const sender = sendMailSender(method, path);
  if (sender) return state.mail.send(sender, body, state.now(), (mailbox) => state.mailboxFault(mailbox));
  return state.operation(caller, method, path, body);
}

export async function startGraphEmulator(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
  const state = new GraphEmulatorState(options);
  const server = http.createServer((req, res) => {
    readBody(req)
      .then((text) => route(state, req, text))
      .then((response) => send(res, response))
      .catch(() => {
        if (!res.headersSent) send(res, graphError(400, 'BadRequest', 'The request could not be read.'));
      });
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    ...listening,
    setFaults: (faults) => state.setFaults(faults),
    subscriptions: () => state.live(),
    sendChangeNotification: (id, changeType = 'updated') => state.notify(id, changeType),
    sendLifecycleEvent: (id, event) => state.lifecycle(id, event),
    removeSubscription: (id) => state.remove(id),
    advanceClock: (ms) => state.advanceClock(ms),
    stats: () => state.stats(),
    resetStats: () => state.resetStats(),
    sentMail: () => state.mail.list(),
  };
}

// ------------------------------------------------------------ a stand-in notification endpoint

/** How the stand-in endpoint answers Graph's validation handshake. */
export type HandshakeMode = 'echo' | 'wrong-token' | 'json' | 'error';

export interface NotificationReceiver {
  url: string;
  port: number;
  /** validation tokens received (decoded) */
  validations: string[];
  /** JSON bodies of change and lifecycle notifications received */
  notifications: Array<{ value: Array<Record<string, unknown>> }>;
  setHandshake(mode: HandshakeMode): void;
  stop(): Promise<void>;
}

/**
 * A minimal notification endpoint for tests and benchmarks that run the emulator
 * without the functions host: answers the handshake as told and acknowledges
 * notifications with 202.
 */
export async function startNotificationReceiver(options: { port?: number; handshake?: HandshakeMode } = {}): Promise<NotificationReceiver> {
  let mode: HandshakeMode = options.handshake ?? 'echo';
  const validations: string[] = [];
  const notifications: NotificationReceiver['notifications'] = [];
  const server = http.createServer((req, res) => {
    readBody(req).then((text) => {
      const token = new URL(req.url ?? '/', 'http://receiver').searchParams.get('validationToken');
      if (token === null) {
        const body = parseJson(text);
        if (typeof body === 'object' && body !== null) notifications.push(body as NotificationReceiver['notifications'][number]);
        res.writeHead(202).end();
        return;
      }
      validations.push(token);
      if (mode === 'echo') res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      else if (mode === 'wrong-token') res.writeHead(200, { 'content-type': 'text/plain' }).end(`${token}x`);
      else if (mode === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(token));
      else res.writeHead(500).end();
    }, () => res.destroy());
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    url: `${listening.url}/api/notifications/graph`,
    port: listening.port,
    validations,
    notifications,
    setHandshake: (next) => {
      mode = next;
    },
    stop: listening.stop,
  };
}
