import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GRAPH_EMULATOR_DEFAULTS,
  startGraphEmulator,
  startNotificationReceiver,
  type GraphEmulator,
  type GraphEmulatorOptions,
  type NotificationReceiver,
} from '../../dev/emulators/graph/server';

const DAY_MS = 24 * 60 * 60_000;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Real HTTP against one emulator, with a fixed clock so expiry and throttling are deterministic. */
class GraphClient {
  private token = '';
  constructor(readonly emulator: GraphEmulator) {}

  async signIn(secret: string = GRAPH_EMULATOR_DEFAULTS.clientSecret): Promise<Answer> {
    const answer = await this.raw('POST', `/${GRAPH_EMULATOR_DEFAULTS.tenantId}/oauth2/v2.0/token`, new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: GRAPH_EMULATOR_DEFAULTS.clientId,
      client_secret: secret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(), 'application/x-www-form-urlencoded');
    if (typeof answer.body.access_token === 'string') this.token = answer.body.access_token;
    return answer;
  }

  graph(method: string, path: string, body?: unknown): Promise<Answer> {
    return this.raw(method, `/v1.0${path}`, body === undefined ? undefined : JSON.stringify(body), 'application/json');
  }

  async raw(method: string, path: string, body: string | undefined, contentType: string): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(`${this.emulator.url}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
}

const NOW = Date.parse('2030-01-01T00:00:00Z');
const inDays = (days: number): string => new Date(NOW + days * DAY_MS).toISOString();

function subscriptionBody(receiver: NotificationReceiver, mailbox: string, resource = 'events', extra: Record<string, unknown> = {}) {
  return {
    changeType: 'created,updated,deleted',
    notificationUrl: receiver.url,
    lifecycleNotificationUrl: receiver.url,
    resource: `/users/${mailbox}/${resource}`,
    expirationDateTime: inDays(3),
    clientState: 'secret-client-state',
    ...extra,
  };
}

const errorCode = (answer: Answer): unknown => (answer.body.error as { code?: unknown } | undefined)?.code;

describe('Graph emulator', () => {
  let receiver: NotificationReceiver;
  const running: GraphEmulator[] = [];

  async function start(options: GraphEmulatorOptions = {}): Promise<GraphClient> {
    const emulator = await startGraphEmulator({ now: () => NOW, allowHttpNotificationUrls: true, ...options });
    running.push(emulator);
    const client = new GraphClient(emulator);
    expect((await client.signIn()).status).toBe(200);
    return client;
  }

  beforeAll(async () => {
    receiver = await startNotificationReceiver();
  });
  afterEach(async () => {
    receiver.setHandshake('echo');
    await Promise.all(running.splice(0).map((e) => e.stop()));
  });
  afterAll(() => receiver.stop());

  describe('tokens', () => {
    it('issues a bearer token for the client credentials and refuses a wrong secret', async () => {
      const client = await start();
      const good = await client.signIn();
      expect(good.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
      const bad = await new GraphClient(client.emulator).signIn('wrong');
      expect(bad.status).toBe(401);
      expect(bad.body.error).toBe('invalid_client');
    });

    it('answers 401 to Graph calls without a valid bearer token', async () => {
      const client = await start();
      const anonymous = new GraphClient(client.emulator);
      expect((await anonymous.graph('GET', '/subscriptions')).status).toBe(401);
    });

    it('stops accepting a token once it has expired by the emulator clock', async () => {
      const client = await start();
      client.emulator.advanceClock(3600_000);
      expect((await client.graph('GET', '/subscriptions')).status).toBe(401);
    });
  });

  describe('creating subscriptions', () => {
    it('validates the notification URL with a URL-encoded token and answers 201 with the subscription', async () => {
      const client = await start();
      const before = receiver.validations.length;
      const created = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com'));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ resource: 'users/alice@contoso.com/events', applicationId: GRAPH_EMULATOR_DEFAULTS.clientId, expirationDateTime: inDays(3) });
      const token = receiver.validations[before] ?? '';
      expect(token).toMatch(/^Validation: .* &\+%\/\?#=$/); // characters that only survive correct encoding
      const [live] = client.emulator.subscriptions();
      expect(live).toMatchObject({ id: created.body.id, clientState: 'secret-client-state', mailbox: 'alice@contoso.com' });
    });

    it.each(['wrong-token', 'json', 'error'] as const)('fails with 400 ValidationError when the endpoint answers the handshake %s', async (mode) => {
      const client = await start();
      receiver.setHandshake(mode);
      const created = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com'));
      expect(created.status).toBe(400);
      expect(errorCode(created)).toBe('ValidationError');
      expect(client.emulator.subscriptions()).toHaveLength(0);
    });

    it('fails with 400 when the endpoint does not answer the handshake in time', async () => {
      const client = await start({ validationTimeoutMs: 200 });
      const silent = http.createServer(() => undefined); // accepts, never answers
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const stalled = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/never`;
        const created = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com', 'events', { notificationUrl: stalled }));
        expect(created.status).toBe(400);
        expect(errorCode(created)).toBe('ValidationError');
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('fails with 400 when nothing listens at the notification URL', async () => {
      const client = await start();
      const gone = await startNotificationReceiver();
      await gone.stop();
      const created = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com', 'events', { notificationUrl: gone.url }));
      expect(created.status).toBe(400);
    });

    it.each([
      ['an expiry in the past', { expirationDateTime: inDays(-1) }],
      ['an expiry beyond 10080 minutes', { expirationDateTime: new Date(NOW + 10081 * 60_000).toISOString() }],
      ['a clientState over 128 characters', { clientState: 'x'.repeat(129) }],
      ['an unsupported resource', { resource: '/users/alice@contoso.com/drive' }],
      ['a bad change type', { changeType: 'created,renamed' }],
    ])('answers 400 for %s', async (_name, extra) => {
      const client = await start();
      const created = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com', 'events', extra));
      expect(created.status).toBe(400);
    });

    it('keeps the requested expiry at exactly the 10080-minute maximum', async () => {
      const client = await start();
      const max = new Date(NOW + 10080 * 60_000).toISOString();
      const created = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com', 'events', { expirationDateTime: max }));
      expect(created.body.expirationDateTime).toBe(max);
    });

    it('answers 409 for a second subscription to the same resource and change type', async () => {
      const client = await start();
      expect((await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com'))).status).toBe(201);
      const again = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'Alice@Contoso.com', 'events', { changeType: 'deleted,updated,created' }));
      expect(again.status).toBe(409);
      expect((await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'alice@contoso.com', 'contacts'))).status).toBe(201);
    });
  });

  describe('reading, renewing, deleting and expiry', () => {
    async function created(client: GraphClient, mailbox = 'bob@contoso.com'): Promise<string> {
      const answer = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, mailbox));
      return answer.body.id as string;
    }

    it('never returns clientState from GET', async () => {
      const client = await start();
      const id = await created(client);
      const one = await client.graph('GET', `/subscriptions/${id}`);
      expect(one.status).toBe(200);
      expect(one.body.clientState).toBeNull();
      const list = await client.graph('GET', '/subscriptions');
      expect((list.body.value as Array<Record<string, unknown>>).map((s) => s.clientState)).toEqual([null]);
    });

    it('renews with PATCH and answers 404 for an unknown id', async () => {
      const client = await start();
      const id = await created(client);
      const renewed = await client.graph('PATCH', `/subscriptions/${id}`, { expirationDateTime: inDays(6) });
      expect(renewed.status).toBe(200);
      expect(renewed.body.expirationDateTime).toBe(inDays(6));
      expect((await client.graph('PATCH', '/subscriptions/nope', { expirationDateTime: inDays(6) })).status).toBe(404);
      expect((await client.graph('PATCH', `/subscriptions/${id}`, { expirationDateTime: inDays(8) })).status).toBe(400);
    });

    it('deletes with 204, then answers 404', async () => {
      const client = await start();
      const id = await created(client);
      expect((await client.graph('DELETE', `/subscriptions/${id}`)).status).toBe(204);
      expect((await client.graph('DELETE', `/subscriptions/${id}`)).status).toBe(404);
      expect((await client.graph('GET', `/subscriptions/${id}`)).status).toBe(404);
    });

    it('expires subscriptions by its clock, also when advanced through the control API', async () => {
      const client = await start();
      const id = await created(client);
      await client.signIn();
      const advanced = await fetch(`${client.emulator.url}/emulator/clock`, { method: 'POST', body: JSON.stringify({ offsetMs: 3 * DAY_MS - 1000 }) });
      expect(advanced.status).toBe(200);
      await client.signIn();
      expect((await client.graph('GET', `/subscriptions/${id}`)).status).toBe(200);
      client.emulator.advanceClock(1000);
      expect((await client.graph('GET', `/subscriptions/${id}`)).status).toBe(404);
      expect(client.emulator.subscriptions()).toHaveLength(0);
    });

    it('forgets a subscription Graph removes on its own', async () => {
      const client = await start();
      const id = await created(client);
      expect(client.emulator.removeSubscription(id)).toBe(true);
      expect((await client.graph('GET', `/subscriptions/${id}`)).status).toBe(404);
    });
  });

  describe('$batch', () => {
    it('answers each request independently', async () => {
      const client = await start();
      const answer = await client.graph('POST', '/$batch', {
        requests: [
          { id: '1', method: 'POST', url: '/subscriptions', headers: { 'Content-Type': 'application/json' }, body: subscriptionBody(receiver, 'carol@contoso.com') },
          { id: '2', method: 'POST', url: 'subscriptions', headers: { 'content-type': 'application/json' }, body: subscriptionBody(receiver, 'missing-dave@contoso.com') },
          { id: '3', method: 'DELETE', url: '/subscriptions/unknown' },
          { id: '4', method: 'POST', url: '/subscriptions', headers: { 'Content-Type': 'application/json' }, body: subscriptionBody(receiver, 'forbidden-erin@contoso.com') },
        ],
      });
      expect(answer.status).toBe(200);
      const statuses = Object.fromEntries((answer.body.responses as Array<{ id: string; status: number }>).map((r) => [r.id, r.status]));
      expect(statuses).toEqual({ '1': 201, '2': 404, '3': 404, '4': 403 });
    });

    it('refuses more than 20 requests and duplicate ids', async () => {
      const client = await start();
      const request = (id: string) => ({ id, method: 'DELETE', url: `/subscriptions/${id}` });
      expect((await client.graph('POST', '/$batch', { requests: Array.from({ length: 21 }, (_, i) => request(String(i))) })).status).toBe(400);
      expect((await client.graph('POST', '/$batch', { requests: [request('1'), request('1')] })).status).toBe(400);
    });
  });

  describe('throttling', () => {
    it('limits subscription writes per window with 429 and a fractional Retry-After, on its own clock', async () => {
      let now = NOW;
      const client = await start({ now: () => now, writeLimit: 3, writeWindowSeconds: 20 });
      const renew = () => client.graph('PATCH', '/subscriptions/unknown', { expirationDateTime: inDays(1) });
      expect([(await renew()).status, (await renew()).status]).toEqual([404, 404]);
      now += 500;
      expect((await renew()).status).toBe(404);
      const throttled = await renew();
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('19.500');
      now += 19_500;
      expect((await renew()).status).toBe(404);
      expect(client.emulator.stats()).toMatchObject({ writes: 4, throttled: 1, requests: 5 });
    });

    it('gives each $batch request its own 429', async () => {
      const client = await start({ writeLimit: 2 });
      const requests = ['a', 'b', 'c'].map((id) => ({ id, method: 'DELETE', url: `/subscriptions/${id}` }));
      const answer = await client.graph('POST', '/$batch', { requests });
      const responses = answer.body.responses as Array<{ status: number; headers: Record<string, string> }>;
      expect(responses.map((r) => r.status).sort()).toEqual([404, 404, 429]);
      expect(Number(responses.find((r) => r.status === 429)?.headers['Retry-After'])).toBeGreaterThan(0);
    });

    it('allows 4 concurrent requests per mailbox and throttles the rest with ApplicationThrottled', async () => {
      const client = await start({ faults: { latencyMs: [20, 20] } });
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'frank@contoso.com'))).body.id as string;
      client.emulator.resetStats();
      const requests = Array.from({ length: 6 }, (_, i) => ({ id: String(i), method: 'PATCH', url: `/subscriptions/${id}`, headers: { 'Content-Type': 'application/json' }, body: { expirationDateTime: inDays(2) } }));
      const answer = await client.graph('POST', '/$batch', { requests });
      const responses = answer.body.responses as Array<{ status: number; body: { error?: { code: string } } }>;
      expect(responses.filter((r) => r.status === 200)).toHaveLength(4);
      expect(responses.filter((r) => r.status === 429).map((r) => r.body.error?.code)).toEqual(['ApplicationThrottled', 'ApplicationThrottled']);
      // the refused ones each met 4 in flight: 5 is the most ever asked of this mailbox at once
      expect(client.emulator.stats().maxConcurrentPerMailbox).toBe(5);
    });

    it('allows 25 subscription list calls per 20 s', async () => {
      const client = await start();
      const statuses: number[] = [];
      for (let i = 0; i < 26; i++) statuses.push((await client.graph('GET', '/subscriptions')).status);
      expect(statuses.slice(0, 25).every((s) => s === 200)).toBe(true);
      expect(statuses[25]).toBe(429);
    });
  });

  describe('notifications', () => {
    it('sends change notifications with clientState and resource data, returning the service status', async () => {
      const client = await start();
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'gina@contoso.com', 'messages'))).body.id as string;
      const before = receiver.notifications.length;
      expect(await client.emulator.sendChangeNotification(id, 'created')).toBe(202);
      const [notification] = receiver.notifications[before]?.value ?? [];
      expect(notification).toMatchObject({ subscriptionId: id, clientState: 'secret-client-state', changeType: 'created', tenantId: GRAPH_EMULATOR_DEFAULTS.tenantId, subscriptionExpirationDateTime: inDays(3) });
      expect(notification?.resource).toMatch(/^Users\/gina@contoso.com\/Messages\//);
      expect((notification?.resourceData as { id?: unknown }).id).toEqual(expect.any(String));
    });

    it.each(['reauthorizationRequired', 'missed', 'subscriptionRemoved'] as const)('sends the %s lifecycle event through the control API', async (event) => {
      const client = await start();
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'hank@contoso.com'))).body.id as string;
      const before = receiver.notifications.length;
      const sent = await fetch(`${client.emulator.url}/emulator/lifecycle`, { method: 'POST', body: JSON.stringify({ subscriptionId: id, event }) });
      expect(await sent.json()).toMatchObject({ status: 202, outcome: 'delivered' });
      expect(receiver.notifications[before]?.value[0]).toMatchObject({ subscriptionId: id, lifecycleEvent: event, clientState: 'secret-client-state' });
      expect(client.emulator.subscriptions().some((s) => s.id === id)).toBe(event !== 'subscriptionRemoved');
    });

    it('answers 404 from the control API for an unknown subscription', async () => {
      const client = await start();
      const sent = await fetch(`${client.emulator.url}/emulator/notify`, { method: 'POST', body: JSON.stringify({ subscriptionId: 'nope' }) });
      expect(sent.status).toBe(404);
    });
  });

  describe('fault injection', () => {
    it('answers transient 503s at the configured error rate', async () => {
      const client = await start({ faults: { errorRate: 1 } });
      const answer = await client.graph('PATCH', '/subscriptions/any', { expirationDateTime: inDays(1) });
      expect(answer.status).toBe(503);
      client.emulator.setFaults({ errorRate: 0 });
      expect((await client.graph('PATCH', '/subscriptions/any', { expirationDateTime: inDays(1) })).status).toBe(404);
    });

    it('marks mailboxes missing or forbidden through the control API', async () => {
      const client = await start();
      const set = await fetch(`${client.emulator.url}/emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({ missingMailboxes: ['ivan@contoso.com'], forbiddenMailboxes: ['JUDY@contoso.com'] }),
      });
      expect(set.status).toBe(200);
      const missing = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'ivan@contoso.com'));
      expect([missing.status, errorCode(missing)]).toEqual([404, 'MailboxNotEnabledForRESTAPI']);
      const forbidden = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'judy@contoso.com'));
      expect([forbidden.status, errorCode(forbidden)]).toEqual([403, 'ErrorAccessDenied']);
    });

    it('reports and resets statistics through the control API', async () => {
      const client = await start();
      await client.graph('DELETE', '/subscriptions/x');
      const stats = (await (await fetch(`${client.emulator.url}/emulator/stats`)).json()) as Record<string, number>;
      expect(stats).toMatchObject({ writes: 1, requests: 1, throttled: 0 });
      expect((await fetch(`${client.emulator.url}/emulator/stats/reset`, { method: 'POST' })).status).toBe(204);
      expect(client.emulator.stats()).toMatchObject({ writes: 0, throttled: 0, requests: 0, maxConcurrentPerMailbox: 0, delivery: { sent: 0, slow: 0 } });
    });

    it('rejects a malformed fault description with 400', async () => {
      const client = await start();
      const set = await fetch(`${client.emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 2 }) });
      expect(set.status).toBe(400);
    });
  });
  // Each rule below names the Microsoft Graph documentation page it follows.
  describe('as documented', () => {
    // api-reference/v1.0/api/subscription-post-subscriptions.md: one subscription per resource and change type; 409 otherwise
    it('answers two concurrent identical creates with one 201 and one 409 naming the existing id', async () => {
      const client = await start();
      receiver.setDelay(0);
      const body = subscriptionBody(receiver, 'race@contoso.com');
      const answers = await Promise.all([client.graph('POST', '/subscriptions', body), client.graph('POST', '/subscriptions', body)]);
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      const created = answers.find((a) => a.status === 201) as Answer;
      const conflict = answers.find((a) => a.status === 409) as Answer;
      expect((conflict.body.error as { message: string }).message).toContain(created.body.id as string);
      expect(client.emulator.subscriptions()).toHaveLength(1);
    });

    // subscription-post-subscriptions.md: notificationUrl must be https
    it('refuses http notification URLs unless started with the development flag', async () => {
      const strict = await start({ allowHttpNotificationUrls: false });
      const refused = await strict.graph('POST', '/subscriptions', subscriptionBody(receiver, 'plain@contoso.com'));
      expect([refused.status, errorCode(refused)]).toEqual([400, 'ValidationError']);
      expect(receiver.validations.length).toBeGreaterThanOrEqual(0);
      const relaxed = await start({ allowHttpNotificationUrls: true });
      expect((await relaxed.graph('POST', '/subscriptions', subscriptionBody(receiver, 'plain@contoso.com'))).status).toBe(201);
    });

    // subscription-list.md: paged with @odata.nextLink
    it('lists more than 100 subscriptions in pages of 100 linked by @odata.nextLink', async () => {
      const client = await start();
      for (let i = 0; i < 105; i++) expect((await client.graph('POST', '/subscriptions', subscriptionBody(receiver, `pager${i}@contoso.com`))).status).toBe(201);
      const first = await client.graph('GET', '/subscriptions');
      expect((first.body.value as unknown[]).length).toBe(100);
      const next = first.body['@odata.nextLink'] as string;
      expect(next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0\/subscriptions\?\$skiptoken=/);
      const second = await client.graph('GET', next.slice(next.indexOf('/v1.0') + '/v1.0'.length));
      expect((second.body.value as unknown[]).length).toBe(5);
      expect(second.body['@odata.nextLink']).toBeUndefined();
      const ids = [...(first.body.value as Array<{ id: string }>), ...(second.body.value as Array<{ id: string }>)].map((s) => s.id);
      expect(new Set(ids).size).toBe(105);
    });

    // subscription-reauthorize.md: POST /subscriptions/{id}/reauthorize → 204
    it('reauthorizes a subscription with 204 and answers 404 for an unknown one', async () => {
      const client = await start();
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'reauth@contoso.com'))).body.id as string;
      expect((await client.graph('POST', `/subscriptions/${id}/reauthorize`)).status).toBe(204);
      expect((await client.graph('POST', '/subscriptions/unknown/reauthorize')).status).toBe(404);
    });

    // concepts/json-batching.md: ids unique ignoring case
    it('refuses batch ids that differ only in case', async () => {
      const client = await start();
      const answer = await client.graph('POST', '/$batch', { requests: [{ id: 'a', method: 'DELETE', url: '/subscriptions/x' }, { id: 'A', method: 'DELETE', url: '/subscriptions/y' }] });
      expect(answer.status).toBe(400);
    });

    // concepts/json-batching.md: dependsOn orders requests; dependents of a failed request answer 424
    it('runs dependsOn in order and answers 424 for the dependents of a failed request', async () => {
      const client = await start();
      const json = { 'Content-Type': 'application/json' };
      const answer = await client.graph('POST', '/$batch', {
        requests: [
          { id: '1', method: 'POST', url: '/subscriptions', headers: json, body: subscriptionBody(receiver, 'missing-dep@contoso.com') },
          { id: '2', method: 'POST', url: '/subscriptions', headers: json, body: subscriptionBody(receiver, 'dep@contoso.com'), dependsOn: ['1'] },
          { id: '3', method: 'POST', url: '/subscriptions', headers: json, body: subscriptionBody(receiver, 'dep3@contoso.com') },
          { id: '4', method: 'DELETE', url: '/subscriptions/whatever', dependsOn: ['3'] },
        ],
      });
      const statuses = Object.fromEntries((answer.body.responses as Array<{ id: string; status: number }>).map((r) => [r.id, r.status]));
      expect(statuses).toEqual({ '1': 404, '2': 424, '3': 201, '4': 404 });
      expect(client.emulator.subscriptions().map((s) => s.mailbox)).toEqual(['dep3@contoso.com']);
    });

    // concepts/json-batching.md: Content-Type is required with a body
    it('answers 400 for a batched request with a body and no Content-Type', async () => {
      const client = await start();
      const answer = await client.graph('POST', '/$batch', { requests: [{ id: '1', method: 'POST', url: '/subscriptions', body: subscriptionBody(receiver, 'ct@contoso.com') }] });
      expect((answer.body.responses as Array<{ status: number }>)[0]?.status).toBe(400);
    });

    // concepts/throttling.md, "Throttling and batching": a batch with throttled requests may itself fail with 424
    it('answers a throttled batch with 424 in that mode, each inner 429 with its own Retry-After', async () => {
      const client = await start({ writeLimit: 1, faults: { throttledBatch: '424' } });
      const requests = ['a', 'b'].map((id) => ({ id, method: 'DELETE', url: `/subscriptions/${id}` }));
      const answer = await client.graph('POST', '/$batch', { requests });
      expect(answer.status).toBe(424);
      const responses = answer.body.responses as Array<{ status: number; headers: Record<string, string> }>;
      expect(responses.map((r) => r.status).sort()).toEqual([404, 429]);
      expect(Number(responses.find((r) => r.status === 429)?.headers['Retry-After'])).toBeGreaterThan(0);
    });

    // concepts/throttling-limits.md, "Outlook service limits": 10,000 requests per 10 minutes per app and mailbox; other mailboxes unaffected
    it('limits requests per mailbox without slowing another mailbox', async () => {
      const client = await start({ mailboxRequestLimit: 3 });
      const ids: string[] = [];
      for (const mailbox of ['busy@contoso.com', 'calm@contoso.com']) ids.push((await client.graph('POST', '/subscriptions', subscriptionBody(receiver, mailbox))).body.id as string);
      const [busy, calm] = ids as [string, string];
      const renew = (id: string) => client.graph('PATCH', `/subscriptions/${id}`, { expirationDateTime: inDays(2) });
      expect([(await renew(busy)).status, (await renew(busy)).status]).toEqual([200, 200]);
      const throttled = await renew(busy);
      expect([throttled.status, errorCode(throttled)]).toEqual([429, 'ApplicationThrottled']);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await renew(calm)).status).toBe(200);
      expect(client.emulator.stats()).toMatchObject({ throttledMailbox: 1 });
    });

    // resources/subscription.md: at most 1,000 Outlook subscriptions per mailbox
    it('refuses a mailbox past its subscription cap with SubscriptionCountReached', async () => {
      const client = await start({ subscriptionsPerMailbox: 2 });
      for (const resource of ['events', 'contacts']) expect((await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'full@contoso.com', resource))).status).toBe(201);
      const refused = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'full@contoso.com', 'messages'));
      expect(refused.status).toBe(403);
      expect((refused.body.error as { message: string }).message).toContain('SubscriptionCountReached');
      expect((await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'other@contoso.com', 'messages'))).status).toBe(201);
    });
  });

  describe('organisation-wide faults', () => {
    it('answers every mailbox call with 403 Authorization_RequestDenied while the app permission is revoked, until granted again', async () => {
      const client = await start();
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'perm@contoso.com'))).body.id as string;
      const set = await fetch(`${client.emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ appPermission: 'revoked' }) });
      expect(set.status).toBe(200);
      const create = await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'perm2@contoso.com'));
      expect([create.status, errorCode(create)]).toEqual([403, 'Authorization_RequestDenied']);
      const renew = await client.graph('PATCH', `/subscriptions/${id}`, { expirationDateTime: inDays(2) });
      expect([renew.status, errorCode(renew)]).toEqual([403, 'Authorization_RequestDenied']);
      await fetch(`${client.emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ appPermission: 'granted' }) });
      expect((await client.graph('PATCH', `/subscriptions/${id}`, { expirationDateTime: inDays(2) })).status).toBe(200);
    });

    it('refuses token requests with invalid_client AADSTS7000222 while the credentials are expired', async () => {
      const client = await start();
      const set = await fetch(`${client.emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ credentials: 'expired' }) });
      expect(set.status).toBe(200);
      const refused = await client.signIn();
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client' });
      expect(refused.body.error_description).toMatch(/AADSTS7000222/);
      expect(client.emulator.stats().tokensRefused).toBe(1);
    });

    it('rejects an unknown fault with 400', async () => {
      const client = await start();
      const set = await fetch(`${client.emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ appPermission: 'maybe' }) });
      expect(set.status).toBe(400);
    });
  });

  // concepts/change-notifications-delivery-webhooks.md, "Throttling": slow answers mark the endpoint slow, then drop
  describe('delivery deadline', () => {
    it('counts answers after the slow mark, and drops new notifications once the slow share passes 15 %', async () => {
      const client = await start({ delivery: { slowMs: 50, deadlineMs: 2_000 } });
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'slowpoke@contoso.com'))).body.id as string;
      receiver.setDelay(100);
      try {
        for (let i = 0; i < 20; i++) expect(await client.emulator.sendChangeNotification(id)).toBe(202);
        const stats = (await (await fetch(`${client.emulator.url}/emulator/stats`)).json()) as { delivery: { slow: number; endpoints: Array<{ state: string; slowShare: number }> } };
        expect(stats.delivery.slow).toBe(20);
        expect(stats.delivery.endpoints[0]).toMatchObject({ state: 'drop', slowShare: 1 });
        const dropped = await fetch(`${client.emulator.url}/emulator/notify`, { method: 'POST', body: JSON.stringify({ subscriptionId: id }) });
        expect(await dropped.json()).toMatchObject({ status: null, outcome: 'dropped' });
        expect(client.emulator.stats().delivery.dropped).toBe(1);
      } finally {
        receiver.setDelay(0);
      }
    });

    it('gives up on an endpoint that does not answer within the deadline', async () => {
      const client = await start({ delivery: { slowMs: 50, deadlineMs: 100 } });
      const id = (await client.graph('POST', '/subscriptions', subscriptionBody(receiver, 'sleepy@contoso.com'))).body.id as string;
      receiver.setDelay(400);
      try {
        const sent = await fetch(`${client.emulator.url}/emulator/notify`, { method: 'POST', body: JSON.stringify({ subscriptionId: id, count: 3 }) });
        expect(await sent.json()).toMatchObject({ status: null, outcome: 'timed_out', slow: true });
        expect(client.emulator.stats().delivery).toMatchObject({ timedOut: 1, failed: 1 });
      } finally {
        receiver.setDelay(0);
      }
    });
  });
});
