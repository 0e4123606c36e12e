import { parseConfig, type Config } from '../../shared/config';
import { createMailProvider, KeyedSemaphore, WriteLimiter, type MailProviderOptions } from '../../shared/adapters/graph';
import type { MailOperation, MailOperationResult, SecretSource, SecretValue } from '../../shared/ports';
import type { MailResource } from '../../shared/domain/model';
import {
  GRAPH_EMULATOR_DEFAULTS,
  startGraphEmulator,
  startNotificationReceiver,
  type GraphEmulator,
  type GraphEmulatorOptions,
  type NotificationReceiver,
} from '../../dev/emulators/graph/server';

const SECRET_NAME = 'graph-client-secret';
const RESOURCES: MailResource[] = ['events', 'contacts', 'messages'];
const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

function configFor(emulator: GraphEmulator, receiver: NotificationReceiver): Config {
  return parseConfig({
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:1',
    VANTAGEPOINT_CLIENT_ID: 'connect-local',
    VANTAGEPOINT_SERVICE_USERNAME: 'svc',
    VANTAGEPOINT_CLIENT_SECRET: 'x',
    VANTAGEPOINT_SERVICE_PASSWORD: 'x',
    GRAPH_BASE_URL: `${emulator.url}/v1.0`,
    GRAPH_AUTHORITY_HOST: emulator.url,
    GRAPH_TENANT_ID: GRAPH_EMULATOR_DEFAULTS.tenantId,
    GRAPH_CLIENT_ID: GRAPH_EMULATOR_DEFAULTS.clientId,
    GRAPH_CLIENT_SECRET_NAME: SECRET_NAME,
    GRAPH_NOTIFICATION_URL: receiver.url,
    GRAPH_WRITE_LIMIT: '10',
    GRAPH_WRITE_WINDOW_SECONDS: '1',
  });
}

/** A secret source holding a sequence of versions: get() serves the current one, refresh() moves to the next. */
class VersionedSecrets implements SecretSource {
  readonly kind = 'environment' as const;
  refreshes = 0;
  private index = 0;
  constructor(private readonly versions: string[]) {}
  get(): Promise<SecretValue> {
    return Promise.resolve({ value: this.versions[this.index] ?? '', version: `v${this.index}`, updatedOn: null });
  }
  refresh(): Promise<SecretValue> {
    this.refreshes++;
    this.index = Math.min(this.index + 1, this.versions.length - 1);
    return this.get();
  }
}

/** Real fetch, observed: which URLs the provider called. */
function observedFetch(calls: string[]): typeof fetch {
  return (input, init) => {
    calls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return fetch(input, init);
  };
}

const creates = (employeeId: string, mailbox: string, resources = RESOURCES): MailOperation[] =>
  resources.map((resource) => ({ kind: 'create', employeeId, mailbox, resource, expiresAt: inDays(3), clientState: `cs-${employeeId}-${resource}` }));

function failureOf(result: MailOperationResult | undefined): Record<string, unknown> {
  if (!result || result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

describe('Graph MailProvider against the emulator', () => {
  let receiver: NotificationReceiver;
  let emulator: GraphEmulator;
  let config: Config;
  let calls: string[];

  async function setUp(options: GraphEmulatorOptions = {}): Promise<void> {
    emulator = await startGraphEmulator({ writeLimit: 10, writeWindowSeconds: 1, allowHttpNotificationUrls: true, ...options });
    config = configFor(emulator, receiver);
    calls = [];
  }

  function provider(options: MailProviderOptions = {}, secrets: SecretSource = new VersionedSecrets([GRAPH_EMULATOR_DEFAULTS.clientSecret])) {
    return createMailProvider(config, secrets, {
      fetch: observedFetch(calls),
      limiter: new WriteLimiter({ limit: config.GRAPH_WRITE_LIMIT, windowMs: config.GRAPH_WRITE_WINDOW_SECONDS * 1000 }),
      mailboxes: new KeyedSemaphore(4),
      ...options,
    });
  }

  const batchCalls = (): number => calls.filter((u) => u.endsWith('/v1.0/$batch')).length;
  const tokenCalls = (): number => calls.filter((u) => u.endsWith('/oauth2/v2.0/token')).length;

  beforeAll(async () => {
    receiver = await startNotificationReceiver();
  });
  afterEach(() => emulator.stop());
  afterAll(() => receiver.stop());

  it('creates, renews and deletes subscriptions through $batch, one result per operation in order', async () => {
    await setUp({ writeLimit: 100 });
    const mail = provider({ limiter: new WriteLimiter({ limit: 100, windowMs: 1000 }) });
    const operations = ['E1', 'E2', 'E3'].flatMap((e) => creates(e, `${e.toLowerCase()}@contoso.com`));

    const created = await mail.apply(operations);
    expect(created.every((r) => r.ok && typeof r.subscriptionId === 'string')).toBe(true);
    expect(batchCalls()).toBe(1);
    const live = emulator.subscriptions();
    expect(live).toHaveLength(9);
    operations.forEach((op, i) => {
      const sub = live.find((s) => s.id === (created[i] as { subscriptionId: string }).subscriptionId);
      expect(op.kind === 'create' && sub?.clientState === op.clientState && sub.resource === `users/${op.mailbox}/${op.resource}`).toBe(true);
      expect(sub?.notificationUrl).toBe(receiver.url);
      expect(sub?.lifecycleNotificationUrl).toBe(receiver.url);
    });

    const ids = created.map((r) => (r as { subscriptionId: string }).subscriptionId);
    const expiresAt = inDays(5);
    const renewed = await mail.apply(ids.map((subscriptionId, i) => ({ kind: 'renew', employeeId: operations[i]?.employeeId ?? '', subscriptionId, expiresAt })));
    expect(renewed).toEqual(ids.map((subscriptionId) => ({ ok: true, subscriptionId, expiresAt })));

    const deleted = await mail.apply(ids.map((subscriptionId, i) => ({ kind: 'delete', employeeId: operations[i]?.employeeId ?? '', subscriptionId })));
    expect(deleted.every((r) => r.ok)).toBe(true);
    expect(emulator.subscriptions()).toHaveLength(0);
  });

  it('starts nothing after its deadline: what is left answers NOT_STARTED and is never sent', async () => {
    // 2 writes per second: the first batch of two goes at once, the rest would wait for the limiter
    await setUp({ writeLimit: 100 });
    const mail = provider({ limiter: new WriteLimiter({ limit: 2, windowMs: 1000 }) });
    const operations = ['D1', 'D2', 'D3'].flatMap((e) => creates(e, `${e.toLowerCase()}@contoso.com`));
    const past = await mail.apply(operations, { deadline: Date.now() - 1 });
    expect(past.map((r) => (r.ok ? 'ok' : r.code))).toEqual(operations.map(() => 'NOT_STARTED'));
    expect(batchCalls()).toBe(0);
    expect(emulator.subscriptions()).toHaveLength(0);

    const soon = await mail.apply(operations, { deadline: Date.now() + 300 });
    const started = soon.filter((r) => r.ok || r.code !== 'NOT_STARTED');
    expect(started.length).toBeGreaterThan(0);
    expect(started.length).toBeLessThan(operations.length);
    // every operation that was started is at the provider, none of the others
    expect(emulator.subscriptions()).toHaveLength(started.filter((r) => r.ok).length);
  });

  it('classifies missing and forbidden mailboxes as permanent with their reasons', async () => {
    await setUp();
    const results = await provider().apply([
      ...creates('E1', 'missing-ann@contoso.com', ['events']),
      ...creates('E2', 'forbidden-ben@contoso.com', ['events']),
      ...creates('E3', 'cat@contoso.com', ['events']),
    ]);
    expect(failureOf(results[0])).toMatchObject({ failure: 'permanent', reason: 'MAILBOX_NOT_FOUND', status: 404, code: 'MailboxNotEnabledForRESTAPI' });
    expect(failureOf(results[1])).toMatchObject({ failure: 'permanent', reason: 'MAILBOX_ACCESS_DENIED', status: 403, code: 'ErrorAccessDenied' });
    expect(results[2]?.ok).toBe(true);
  });

  it('reports a duplicate create as exists, naming the existing subscription from the 409 message', async () => {
    await setUp();
    const mail = provider();
    const [first] = await mail.apply(creates('E1', 'dan@contoso.com', ['events']));
    const [second] = await mail.apply(creates('E1', 'dan@contoso.com', ['events']));
    expect(failureOf(second)).toMatchObject({ failure: 'exists', status: 409, existingId: (first as { subscriptionId: string }).subscriptionId });
  });

  it('lists the tenant page by page, following @odata.nextLink', async () => {
    await setUp({ writeLimit: 500 });
    const mail = provider({ limiter: new WriteLimiter({ limit: 500, windowMs: 1000 }) });
    const results = await mail.apply(Array.from({ length: 35 }, (_, i) => creates(`L${i}`, `lister${i}@contoso.com`)).flat()); // 105
    expect(results.every((r) => r.ok)).toBe(true);
    const first = await mail.listSubscriptions(null);
    expect(first.items).toHaveLength(100);
    expect(first.next).toEqual(expect.stringContaining('$skiptoken='));
    const second = await mail.listSubscriptions(first.next);
    expect(second).toMatchObject({ next: null });
    expect(new Set([...first.items, ...second.items].map((s) => s.id)).size).toBe(105);
    expect(second.items[0]).toMatchObject({ notificationUrl: receiver.url, resource: expect.stringMatching(/^users\//) });
  });

  it('reports renew and delete of a subscription Graph no longer has as gone', async () => {
    await setUp();
    const mail = provider();
    const [created] = await mail.apply(creates('E1', 'eve@contoso.com', ['events']));
    const id = (created as { subscriptionId: string }).subscriptionId;
    emulator.removeSubscription(id);
    const results = await mail.apply([
      { kind: 'renew', employeeId: 'E1', subscriptionId: id, expiresAt: inDays(4) },
      { kind: 'delete', employeeId: 'E1', subscriptionId: id },
    ]);
    expect(results.map((r) => failureOf(r).failure)).toEqual(['gone', 'gone']);
  });

  it('honours 429 Retry-After per request and loses no operation', async () => {
    await setUp(); // Graph allows 10 writes per second...
    const mail = provider({ limiter: new WriteLimiter({ limit: 20, windowMs: 1000 }) }); // ...the client believes 20
    const operations = Array.from({ length: 10 }, (_, i) => creates(`E${i}`, `user${i}@contoso.com`)).flat(); // 30
    const results = await mail.apply(operations);
    expect(results).toHaveLength(30);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emulator.stats().throttled).toBeGreaterThan(0);
    expect(emulator.subscriptions()).toHaveLength(30);
  });

  it('stays within the write limit when sized to it: saturates without a single 429', async () => {
    await setUp();
    const operations = Array.from({ length: 8 }, (_, i) => creates(`E${i}`, `user${i}@contoso.com`)).flat(); // 24
    const results = await provider().apply(operations);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emulator.stats()).toMatchObject({ writes: 24, throttledMailbox: 0, throttled: 0 });
  });

  it('keeps at most 4 requests in flight per mailbox', async () => {
    await setUp({ writeLimit: 100, faults: { latencyMs: [30, 30] } });
    const mail = provider({ limiter: new WriteLimiter({ limit: 100, windowMs: 1000 }) });
    const created = await mail.apply(creates('E1', 'fay@contoso.com'));
    const ids = created.map((r) => (r as { subscriptionId: string }).subscriptionId);
    emulator.resetStats();
    const renews: MailOperation[] = Array.from({ length: 12 }, (_, i) => ({ kind: 'renew', employeeId: 'E1', subscriptionId: ids[i % 3] ?? '', expiresAt: inDays(2) }));
    const results = await mail.apply(renews);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emulator.stats()).toMatchObject({ maxConcurrentPerMailbox: 4, throttled: 0 });
  });

  it('ends a tenant-wide 5xx (every mailbox of the batch) as unavailable (SERVICE) after bounded retries, charged to nobody', async () => {
    await setUp({ faults: { errorRate: 1 } });
    const results = await provider({ maxTransientRetries: 1 }).apply([...creates('E1', 'gus@contoso.com', ['events']), ...creates('E2', 'gil@contoso.com', ['events'])]);
    for (const result of results) expect(failureOf(result)).toMatchObject({ failure: 'unavailable', cause: 'SERVICE', status: 503 });
    expect(batchCalls()).toBe(2);
  });

  it("ends one mailbox's persistent 5xx as transient for that member after bounded retries", async () => {
    await setUp({ faults: { errorRate: 1 } });
    const [result] = await provider({ maxTransientRetries: 1 }).apply(creates('E1', 'gus@contoso.com', ['events']));
    expect(failureOf(result)).toMatchObject({ failure: 'transient', status: 503 });
  });

  it('ends as unavailable when Graph cannot be reached, without throwing', async () => {
    await setUp();
    await emulator.stop();
    const results = await provider({ maxTransientRetries: 0 }).apply(creates('E1', 'hal@contoso.com', ['events', 'contacts']));
    expect(results.map((r) => failureOf(r))).toEqual([
      // the token endpoint is the emulator too: identity or Graph, unreachable is an outage, not the member's fault
      expect.objectContaining({ failure: 'unavailable', cause: 'SERVICE', status: 0 }),
      expect.objectContaining({ failure: 'unavailable', cause: 'SERVICE', status: 0 }),
    ]);
    emulator = await startGraphEmulator({ allowHttpNotificationUrls: true }); // afterEach stops it
  });

  it('reuses its app-only token across calls', async () => {
    await setUp();
    const mail = provider();
    await mail.apply(creates('E1', 'ida@contoso.com', ['events']));
    await mail.apply(creates('E2', 'jim@contoso.com', ['events']));
    expect(tokenCalls()).toBe(1);
  });

  it('follows a rotated client secret: re-reads it once when the old one is refused', async () => {
    await setUp();
    const secrets = new VersionedSecrets(['revoked-secret', GRAPH_EMULATOR_DEFAULTS.clientSecret]);
    const [result] = await provider({}, secrets).apply(creates('E1', 'kim@contoso.com', ['events']));
    expect(result?.ok).toBe(true);
    expect(secrets.refreshes).toBe(1);
  });
  describe('$batch per json-batching and throttling', () => {
    it('reads responses[] of a batch answered 424 and honours each inner Retry-After: every operation ends done, nobody charged', async () => {
      await setUp({ writeLimit: 4, faults: { throttledBatch: '424' } }); // Graph allows 4 writes per second...
      const mail = provider({ limiter: new WriteLimiter({ limit: 20, windowMs: 1000 }) }); // ...the client believes 20
      const results = await mail.apply(Array.from({ length: 3 }, (_, i) => creates(`B${i}`, `batcher${i}@contoso.com`)).flat()); // 9
      expect(results.every((r) => r.ok)).toBe(true);
      expect(emulator.stats().throttled).toBeGreaterThan(0);
      expect(emulator.subscriptions()).toHaveLength(9);
    });

    it("slows only the mailbox Graph throttled: another mailbox's operations go through and the tenant's writers are not paused", async () => {
      await setUp({ writeLimit: 100, mailboxRequestLimit: 2 });
      const limiter = new WriteLimiter({ limit: 100, windowMs: 1000 });
      const mail = provider({ limiter, maxThrottledAttempts: 0 });
      const results = await mail.apply([...creates('BUSY', 'busy@contoso.com'), ...creates('CALM', 'calm@contoso.com', ['events', 'contacts'])]);
      const busy = results.slice(0, 3);
      const calm = results.slice(3);
      expect(calm.every((r) => r.ok)).toBe(true);
      expect(busy.filter((r) => r.ok)).toHaveLength(2);
      expect(failureOf(busy.find((r) => !r.ok))).toMatchObject({ failure: 'transient', status: 429, code: 'ApplicationThrottled' });
      expect(limiter.pausedForMs()).toBe(0);
    });

    it("pauses every writer for a tenant-level 429", async () => {
      await setUp({ writeLimit: 1 });
      const limiter = new WriteLimiter({ limit: 20, windowMs: 1000 });
      const results = await provider({ limiter, maxThrottledAttempts: 0 }).apply(creates('T1', 'tenant@contoso.com', ['events', 'contacts']));
      expect(results.filter((r) => !r.ok).map((r) => failureOf(r).code)).toEqual(['TooManyRequests']);
      expect(limiter.pausedForMs()).toBeGreaterThan(0);
    });

    it("treats SubscriptionCountReached as that mailbox's problem: transient for it, the others unaffected", async () => {
      await setUp({ subscriptionsPerMailbox: 2 });
      const results = await provider().apply([...creates('FULL', 'full@contoso.com'), ...creates('ROOM', 'room@contoso.com', ['events'])]);
      expect(results.filter((r) => !r.ok).map((r) => failureOf(r))).toEqual([expect.objectContaining({ failure: 'transient', code: 'SubscriptionCountReached' })]);
      expect(results[3]?.ok).toBe(true);
    });
  });

  describe('organisation-level failures are never charged to a member', () => {
    it('answers unavailable (PERMISSION) while the app permission is revoked, and a mailbox reason for a mailbox-specific 403', async () => {
      await setUp();
      emulator.setFaults({ appPermission: 'revoked' });
      const [revoked] = await provider().apply(creates('P1', 'perm@contoso.com', ['events']));
      expect(failureOf(revoked)).toMatchObject({ failure: 'unavailable', cause: 'PERMISSION', status: 403, code: 'Authorization_RequestDenied' });
      emulator.setFaults({ appPermission: 'granted' });
      const [forbidden] = await provider().apply(creates('P2', 'forbidden-p2@contoso.com', ['events']));
      expect(failureOf(forbidden)).toMatchObject({ failure: 'permanent', reason: 'MAILBOX_ACCESS_DENIED', code: 'ErrorAccessDenied' });
    });

    it('answers unavailable (CREDENTIALS) when the identity platform refuses expired credentials', async () => {
      await setUp();
      emulator.setFaults({ credentials: 'expired' });
      const [result] = await provider().apply(creates('C1', 'cred@contoso.com', ['events']));
      expect(failureOf(result)).toMatchObject({ failure: 'unavailable', cause: 'CREDENTIALS' });
      expect(emulator.stats().requests).toBe(0);
    });

    it('answers unavailable (UNAUTHORIZED) when Graph refuses a fresh token too (batch-level 401)', async () => {
      await setUp();
      const refusing: typeof fetch = (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        calls.push(url);
        if (url.endsWith('/$batch')) {
          return Promise.resolve(new Response(JSON.stringify({ error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } }), { status: 401 }));
        }
        return fetch(input, init);
      };
      const [result] = await provider({ fetch: refusing }).apply(creates('U1', 'unauth@contoso.com', ['events']));
      expect(failureOf(result)).toMatchObject({ failure: 'unavailable', cause: 'UNAUTHORIZED', status: 401 });
      expect(batchCalls()).toBe(2);
      expect(tokenCalls()).toBe(2);
    });
  });
});
