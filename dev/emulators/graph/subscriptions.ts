/**
 * The subscription API (api-reference/v1.0/resources/subscription.md and the pages of its
 * methods): create with the validation handshake, get, renew, delete, list, reauthorize.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { graphError, issuesOf, type GraphResponse } from './http';
import type { EmulatorContext, GraphCall, GraphRouteModule } from './modules';
import type { Caller, EmulatedSubscription, GraphEmulatorState } from './state';

/** subscription-post-subscriptions.md: Outlook message/event/contact subscriptions live at most 10,080 minutes. */
const MAX_LIFETIME_MS = 10080 * 60_000;
/** subscription-list.md: the list is paged; the emulator's page size */
export const LIST_PAGE_SIZE = 100;

export const RESOURCE = /^\/?users\/([^/]+)\/(events|contacts|messages)$/i;
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time');
const anyUrl = z.url({ protocol: /^https?$/ });
const changeTypes = z
  .string()
  .refine((s) => s.split(',').every((t) => ['created', 'updated', 'deleted'].includes(t.trim())), 'created, updated and/or deleted');
const createBody = z.object({
  changeType: changeTypes,
  notificationUrl: anyUrl,
  lifecycleNotificationUrl: anyUrl.optional(),
  resource: z.string().regex(RESOURCE, '/users/{mailbox}/events|contacts|messages'),
  expirationDateTime: isoDate,
  clientState: z.string().max(128).optional(),
});
const renewBody = z.object({ expirationDateTime: isoDate });

export function mailboxOf(resource: string): string {
  return (RESOURCE.exec(resource)?.[1] ?? '').toLowerCase();
}

function mailboxOfBody(body: unknown): string | null {
  const resource = typeof body === 'object' && body !== null ? (body as { resource?: unknown }).resource : undefined;
  return typeof resource === 'string' && RESOURCE.test(resource) ? mailboxOf(resource) : null;
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

/** (app, resource, change types) → id of a subscription being created: the duplicate check holds across the handshake. */
const pendingByState = new WeakMap<GraphEmulatorState, Map<string, string>>();
function pendingOf(state: GraphEmulatorState): Map<string, string> {
  let pending = pendingByState.get(state);
  if (!pending) pendingByState.set(state, (pending = new Map()));
  return pending;
}

function expirationProblem(state: GraphEmulatorState, iso: string): GraphResponse | null {
  const at = Date.parse(iso);
  const now = state.now();
  if (at <= now) return graphError(400, 'InvalidRequest', 'expirationDateTime must be in the future.');
  if (at > now + MAX_LIFETIME_MS) return graphError(400, 'InvalidRequest', 'expirationDateTime exceeds the maximum of 10080 minutes for this resource.');
  return null;
}

function owned(state: GraphEmulatorState, caller: Caller, id: string): EmulatedSubscription | undefined {
  const sub = state.find(id);
  return sub && sub.applicationId === caller.applicationId ? sub : undefined;
}

async function create(ctx: EmulatorContext, caller: Caller, body: unknown): Promise<GraphResponse> {
  const { state } = ctx;
  const parsed = createBody.safeParse(body);
  if (!parsed.success) return graphError(400, 'InvalidRequest', issuesOf(parsed.error));
  const input = parsed.data;
  const urls = [...new Set([input.notificationUrl, input.lifecycleNotificationUrl].filter((u): u is string => !!u))];
  // subscription-post-subscriptions.md: notificationUrl (and lifecycleNotificationUrl) must be https.
  if (!state.allowHttpNotificationUrls && urls.some((u) => !u.startsWith('https:'))) {
    return graphError(400, 'ValidationError', 'The Notification Url must use the https scheme.');
  }
  const expiry = expirationProblem(state, input.expirationDateTime);
  if (expiry) return expiry;
  const resource = input.resource.replace(/^\//, '');
  const mailbox = mailboxOf(input.resource);
  const changeType = input.changeType.split(',').map((t) => t.trim()).sort().join(',');
  const key = `${caller.applicationId}|${resource.toLowerCase()}|${changeType}`;
  const pending = pendingOf(state);
  // Checked and reserved in one step (no await between), so of two concurrent creates one wins.
  const existing = [...state.live()].find((s) => `${s.applicationId}|${s.resource.toLowerCase()}|${s.changeType}` === key)?.id ?? pending.get(key);
  if (existing) return graphError(409, 'Conflict', `Subscription Id ${existing} already exists for the requested resource and change type.`);
  // resources/subscription.md: at most 1,000 Outlook subscriptions per mailbox, across apps.
  if (state.live().filter((s) => s.mailbox === mailbox).length + [...pending.keys()].filter((k) => k.includes(`|users/${mailbox}/`)).length >= state.subscriptionsPerMailbox) {
    return graphError(403, 'ExtensionError', `Resource 'SubscriptionCountReached' has reached limit of '${state.subscriptionsPerMailbox}'.`);
  }
  const id = randomUUID();
  pending.set(key, id);
  try {
    for (const url of urls) {
      if (!(await validateEndpoint(url, ctx.delivery.validationTimeoutMs))) {
        return graphError(400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
      }
    }
    const sub: EmulatedSubscription = {
      id,
      applicationId: caller.applicationId,
      mailbox,
      resource,
      changeType,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl ?? null,
      expirationDateTime: new Date(Date.parse(input.expirationDateTime)).toISOString(),
      clientState: input.clientState ?? null,
      createdDateTime: new Date(state.now()).toISOString(),
    };
    state.subs.set(sub.id, sub);
    return { status: 201, body: publicView(sub, true) };
  } finally {
    pending.delete(key);
  }
}

/** Graph's handshake: the endpoint must echo the URL-decoded token as text/plain, in time. */
async function validateEndpoint(url: string, timeoutMs: number): Promise<boolean> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()} &+%/?#=`;
  const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
  try {
    const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return response.status === 200 && type.toLowerCase().startsWith('text/plain') && text === token;
  } catch {
    return false;
  }
}

function renew(state: GraphEmulatorState, sub: EmulatedSubscription, body: unknown): GraphResponse {
  const parsed = renewBody.safeParse(body);
  if (!parsed.success) return graphError(400, 'InvalidRequest', 'expirationDateTime: an ISO 8601 date-time is required');
  const expiry = expirationProblem(state, parsed.data.expirationDateTime);
  if (expiry) return expiry;
  sub.expirationDateTime = new Date(Date.parse(parsed.data.expirationDateTime)).toISOString();
  return { status: 200, body: publicView(sub) };
}

/** subscription-list.md: paged with @odata.nextLink; each page is one call against the list limit. */
function list(ctx: EmulatorContext, caller: Caller, query: URLSearchParams): GraphResponse {
  const { state } = ctx;
  const retryAfter = state.listWindow.admit(state.now());
  if (retryAfter > 0) return state.throttled('TooManyRequests', retryAfter, 'Subscription list limit reached for this tenant.', false);
  const after = query.get('$skiptoken');
  const afterId = after ? Buffer.from(after, 'base64url').toString('utf8') : '';
  const all = state
    .live()
    .filter((s) => s.applicationId === caller.applicationId)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = all.filter((s) => s.id > afterId);
  const page = rest.slice(0, LIST_PAGE_SIZE);
  const last = page.at(-1);
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl()}/v1.0/$metadata#subscriptions`, value: page.map((s) => publicView(s)) };
  if (rest.length > page.length && last) body['@odata.nextLink'] = `${ctx.baseUrl()}/v1.0/subscriptions?$skiptoken=${Buffer.from(last.id).toString('base64url')}`;
  return { status: 200, body };
}

function handle(ctx: EmulatorContext, call: GraphCall): Promise<GraphResponse> | null {
  const url = new URL(call.path, 'http://graph');
  const route = /^\/subscriptions(?:\/([^/]+))?(\/reauthorize)?\/?$/.exec(url.pathname);
  if (!route) return null;
  const { state } = ctx;
  const { caller, method, body } = call;
  const id = route[1] ? decodeURIComponent(route[1]) : undefined;
  const reauthorize = route[2] !== undefined;
  if (!id) {
    if (method === 'POST') return state.guarded(caller, mailboxOfBody(body), true, () => create(ctx, caller, body));
    if (method === 'GET') return state.guarded(caller, null, false, () => list(ctx, caller, url.searchParams));
    return Promise.resolve(graphError(405, 'MethodNotAllowed', `${method} is not allowed on '${url.pathname}'.`));
  }
  const allowed = reauthorize ? ['POST'] : ['GET', 'PATCH', 'DELETE'];
  if (!allowed.includes(method)) return Promise.resolve(graphError(405, 'MethodNotAllowed', `${method} is not allowed on '${url.pathname}'.`));
  const sub = owned(state, caller, id);
  return state.guarded(caller, sub?.mailbox ?? null, method !== 'GET', () => {
    const current = owned(state, caller, id);
    if (!current) return graphError(404, 'ResourceNotFound', `The subscription '${id}' was not found.`);
    // subscription-reauthorize.md: 204 No Content.
    if (reauthorize) return { status: 204 };
    if (method === 'GET') return { status: 200, body: publicView(current) };
    if (method === 'PATCH') return renew(state, current, body);
    state.subs.delete(id);
    return { status: 204 };
  });
}

export const subscriptionsModule: GraphRouteModule = { name: 'subscriptions', handle };
