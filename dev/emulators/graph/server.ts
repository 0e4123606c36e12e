/**
 * A Microsoft Graph emulator for the change-notification subscription API, close
 * enough to the real service that the production client runs against it unchanged:
 * client-credentials tokens, the subscription API with the validation handshake and
 * expiry (subscriptions.ts), `$batch` (batch.ts), the published throttling with 429 +
 * Retry-After (state.ts), change and lifecycle notifications under Graph's delivery
 * deadline (delivery.ts) and injectable faults (faults.ts). Other areas of Graph are
 * added as route modules (modules.ts).
 */
import http, { type IncomingMessage } from 'node:http';
import { z } from 'zod';
import { listenOnLoopback } from '../../support/listen';
import { runBatch } from './batch';
import { Delivery, UnknownSubscriptionError, type DeliveryOptions, type DeliveryResult, type LifecycleEvent } from './delivery';
import { faultsBody, type Faults } from './faults';
import { graphError, INVALID_JSON, parseJson, readBody, send, withJson, type ControlRoute, type GraphResponse } from './http';
import type { MailboxCalendars } from './events';
import { calendarsOf } from './eventsRoutes';
import type { SentMail } from './mail';
import { GRAPH_ROUTE_MODULES, type EmulatorContext, type GraphRouteModule } from './modules';
import { GraphEmulatorState, MAILBOX_REQUEST_LIMIT, type Caller, type EmulatedSubscription, type EmulatorStats } from './state';

export type { Faults } from './faults';
export type { EmulatedSubscription, EmulatorStats } from './state';
export type { DeliveryResult, LifecycleEvent } from './delivery';
export { UnknownSubscriptionError } from './delivery';
export type { GraphRouteModule } from './modules';
export { startNotificationReceiver, type HandshakeMode, type NotificationReceiver } from './receiver';

export interface GraphEmulatorOptions {
  port?: number;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  now?: () => number;
  faults?: Partial<Faults>;
  writeLimit?: number;
  writeWindowSeconds?: number;
  /** Outlook's cap of subscriptions per mailbox across apps (Graph: 1,000) */
  subscriptionsPerMailbox?: number;
  /** requests per app per mailbox per 10 minutes (Graph: 10,000) */
  mailboxRequestLimit?: number;
  /**
   * The explicit development flag: accept `http://` notification URLs. Graph requires https;
   * `npm start` and the test stacks set this because the local functions host speaks http.
   */
  allowHttpNotificationUrls?: boolean;
  /** how long the notification endpoint has to answer the validation handshake (Graph: 10 s) */
  validationTimeoutMs?: number;
  /** delivery deadline (Graph: 3 s) and the hold-back of an endpoint marked slow */
  delivery?: Omit<DeliveryOptions, 'validationTimeoutMs'>;
  /** route modules served besides GRAPH_ROUTE_MODULES */
  modules?: GraphRouteModule[];
}

export interface GraphEmulator {
  /** base URL; Graph is under url + '/v1.0', tokens under url + '/{tenant}/oauth2/v2.0/token' */
  url: string;
  port: number;
  stop(): Promise<void>;
  setFaults(faults: Partial<Faults>): void;
  /** live subscriptions, including clientState (for tests) */
  subscriptions(): EmulatedSubscription[];
  /**
   * Delivers a change notification: about `itemId` (a random item when absent), or about `count`
   * random items in one delivery. The endpoint's status, or null when it timed out or was dropped.
   */
  sendChangeNotification(subscriptionId: string, changeType?: string, itemId?: string, count?: number): Promise<number | null>;
  sendLifecycleEvent(subscriptionId: string, event: LifecycleEvent): Promise<number | null>;
  /** Removes a subscription as Graph does on its own; false when there was none. */
  removeSubscription(id: string): boolean;
  /** Moves the emulator clock forward (expiry, token lifetime, throttling windows). */
  advanceClock(ms: number): void;
  stats(): EmulatorStats;
  resetStats(): void;
  /** what sendMail sent (also GET /emulator/mail) */
  sentMail(): SentMail[];
  /** mailbox calendars (events), also reachable over /emulator/mailboxes/{mailbox}/events */
  calendars: MailboxCalendars;
}

export const GRAPH_EMULATOR_DEFAULTS = {
  tenantId: 'local-tenant',
  clientId: 'connect-graph-local',
  clientSecret: 'local-graph-secret',
} as const;

const notifyBody = z.object({
  subscriptionId: z.string().min(1),
  changeType: z.string().min(1).default('updated'),
  /** items in the one delivery (Graph batches up to 1,000 per delivery in practice) */
  count: z.number().int().min(1).max(1000).default(1),
});
const lifecycleBody = z.object({
  subscriptionId: z.string().min(1),
  event: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
});
const clockBody = z.object({ offsetMs: z.number() });

/** Outbound calls answer with the endpoint's status and how the delivery went; a dead endpoint is a 502. */
async function relay(call: () => Promise<DeliveryResult>): Promise<GraphResponse> {
  try {
    return { status: 200, body: await call() };
  } catch (err) {
    if (err instanceof UnknownSubscriptionError) return graphError(404, 'ResourceNotFound', err.message);
    return graphError(502, 'DeliveryFailed', err instanceof Error ? err.message : 'delivery failed');
  }
}

function statsOf(ctx: EmulatorContext): EmulatorStats {
  return { ...ctx.state.counters, delivery: ctx.delivery.stats() };
}

const coreControl: Record<string, ControlRoute<EmulatorContext>> = {
  'POST /emulator/faults': withJson(faultsBody, (ctx, faults) => {
    ctx.state.setFaults(faults as Partial<Faults>);
    return { status: 200, body: ctx.state.currentFaults() };
  }),
  'GET /emulator/faults': (ctx) => Promise.resolve({ status: 200, body: ctx.state.currentFaults() }),
  'GET /emulator/subscriptions': (ctx) => Promise.resolve({ status: 200, body: { value: ctx.state.live() } }),
  'GET /emulator/stats': (ctx) => Promise.resolve({ status: 200, body: statsOf(ctx) }),
  'POST /emulator/stats/reset': (ctx) => {
    ctx.state.resetStats();
    return Promise.resolve({ status: 204 });
  },
  'POST /emulator/notify': withJson(notifyBody, (ctx, input) => relay(() => ctx.delivery.notify(input.subscriptionId, input.changeType, input.count))),
  'POST /emulator/lifecycle': withJson(lifecycleBody, (ctx, input) => relay(() => ctx.delivery.lifecycle(input.subscriptionId, input.event))),
  'POST /emulator/clock': withJson(clockBody, (ctx, input) => {
    ctx.state.advanceClock(input.offsetMs);
    return { status: 200, body: { now: new Date(ctx.state.now()).toISOString() } };
  }),
};

class Router {
  private readonly control: Record<string, ControlRoute<EmulatorContext>>;
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly modules: GraphRouteModule[],
  ) {
    this.control = Object.assign({}, coreControl, ...modules.map((m) => m.control ?? {})) as Record<string, ControlRoute<EmulatorContext>>;
  }

  /** One Graph call, direct or a `$batch` sub-request: the first module that serves it answers. */
  operation = async (caller: Caller, method: string, path: string, headers: Record<string, string>, body: unknown): Promise<GraphResponse> => {
    this.ctx.state.counters.requests++;
    for (const module of this.modules) {
      const answer = await module.handle?.(this.ctx, { caller, method, path, headers, body });
      if (answer) return answer;
    }
    return graphError(400, 'BadRequest', `Unsupported resource '${path}'.`);
  };

  async route(req: IncomingMessage, text: string): Promise<GraphResponse> {
    const { state } = this.ctx;
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const control = this.control[`${method} ${url.pathname}`];
    if (control) return control(this.ctx, req, text);
    if (url.pathname.startsWith('/emulator/')) {
      const input = parseJson(text);
      if (input === INVALID_JSON) return graphError(400, 'BadRequest', 'The request body is not valid JSON.');
      for (const module of this.modules) {
        const answer = await module.controlFallback?.(this.ctx, method, url.pathname, input);
        if (answer) return answer;
      }
    }

    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (token?.[1] && method === 'POST') return state.issueToken(decodeURIComponent(token[1]), new URLSearchParams(text));

    if (!url.pathname.startsWith('/v1.0/')) return graphError(404, 'NotFound', `No route for ${method} ${url.pathname}`);
    const caller = state.authenticate(req.headers.authorization);
    if (!caller) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty, invalid or expired.');
    const body = parseJson(text);
    if (body === INVALID_JSON) return graphError(400, 'BadRequest', 'The request body is not valid JSON.');
    const path = url.pathname.slice('/v1.0'.length) + url.search;
    if (path === '/$batch' && method === 'POST') return runBatch(caller, body, this.operation, state.currentFaults().throttledBatch);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    return this.operation(caller, method, path, headers, body);
  }
}

export async function startGraphEmulator(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
  const state = new GraphEmulatorState({
    tenantId: options.tenantId ?? GRAPH_EMULATOR_DEFAULTS.tenantId,
    clientId: options.clientId ?? GRAPH_EMULATOR_DEFAULTS.clientId,
    clientSecret: options.clientSecret ?? GRAPH_EMULATOR_DEFAULTS.clientSecret,
    now: options.now ?? Date.now,
    writeLimit: options.writeLimit ?? 500,
    writeWindowSeconds: options.writeWindowSeconds ?? 20,
    subscriptionsPerMailbox: options.subscriptionsPerMailbox ?? 1000,
    mailboxRequestLimit: options.mailboxRequestLimit ?? MAILBOX_REQUEST_LIMIT,
    allowHttpNotificationUrls: options.allowHttpNotificationUrls ?? false,
    faults: options.faults ?? {},
  });
  const delivery = new Delivery(state, { ...options.delivery, validationTimeoutMs: options.validationTimeoutMs });
  let baseUrl = '';
  const ctx: EmulatorContext = { state, delivery, baseUrl: () => baseUrl };
  const router = new Router(ctx, [...GRAPH_ROUTE_MODULES, ...(options.modules ?? [])]);
  const server = http.createServer((req, res) => {
    readBody(req)
      .then((text) => router.route(req, text))
      .then((response) => send(res, response))
      .catch(() => {
        if (!res.headersSent) send(res, graphError(400, 'BadRequest', 'The request could not be read.'));
      });
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  baseUrl = listening.url;
  return {
    ...listening,
    setFaults: (faults) => state.setFaults(faults),
    subscriptions: () => state.live(),
    sendChangeNotification: async (id, changeType = 'updated', itemId, count = 1) => (await delivery.notify(id, changeType, count, itemId)).status,
    sendLifecycleEvent: async (id, event) => (await delivery.lifecycle(id, event)).status,
    removeSubscription: (id) => state.remove(id),
    advanceClock: (ms) => state.advanceClock(ms),
    stats: () => statsOf(ctx),
    resetStats: () => state.resetStats(),
    sentMail: () => state.mail.list(),
    calendars: calendarsOf(ctx),
  };
}
