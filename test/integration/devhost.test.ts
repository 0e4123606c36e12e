import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Timer } from '@azure/functions';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { MAX_REQUEST_BODY_BYTES, startDevHost, type DevHost } from '../../dev/host';
import { fixtureEvents } from '../fixtures/signals';

const storage = process.env.TEST_STORAGE_CONNECTION as string;
const suffix = randomBytes(4).toString('hex');
const QUEUE = `devhost-ok-${suffix}`;
const FAILING_QUEUE = `devhost-fail-${suffix}`;

let host: DevHost;
let api: string;
const logLines: string[] = [];
const queues = QueueServiceClient.fromConnectionString(storage);

beforeAll(async () => {
  host = await startDevHost({
    port: 0,
    functionsGlob: 'test/fixtures/functions/*.ts',
    storageConnectionString: storage,
    env: { FIXTURE_QUEUE: QUEUE, FIXTURE_FAILING_QUEUE: FAILING_QUEUE, FIXTURE_SCHEDULE: '* * * * * *' },
    queuePollMs: 50,
    log: (line) => logLines.push(line),
  });
  api = `${host.url}/api`;
});

afterAll(async () => {
  await host?.stop();
  fixtureEvents.removeAllListeners();
});

/** Waits for a condition the host reaches asynchronously; fails with `what` if it never does. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const messageCount = async (queue: QueueClient): Promise<number> => (await queue.getProperties()).approximateMessagesCount ?? 0;

describe('development host: HTTP functions', () => {
  it('passes route parameters, repeated query parameters and headers to the function, and writes its status and headers back', async () => {
    const res = await fetch(`${api}/echo/42/items?x=1&x=2&y=z`, { headers: { 'x-test': 'hello' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-fixture')).toBe('echo');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      method: 'GET',
      params: { id: '42' },
      query: [['x', '1'], ['x', '2'], ['y', 'z']],
      header: 'hello',
      contentType: null,
      body: '',
    });
  });

  it('fills an optional parameter, decodes segments and matches case-insensitively', async () => {
    const res = await fetch(`${api}/ECHO/a%20b/Items/7`);
    expect(res.status).toBe(201);
    expect(((await res.json()) as { params: unknown }).params).toEqual({ id: 'a b', item: '7' });
  });

  it('delivers a JSON body with its content type', async () => {
    const res = await fetch(`${api}/echo/1/items`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, names: ['ä', 'b'] }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ method: 'PUT', contentType: 'application/json', body: { enabled: true, names: ['ä', 'b'] } });
  });

  it('prefers a literal route over a parameter', async () => {
    const res = await fetch(`${api}/echo/fixed/items`);
    expect(await res.json()).toEqual({ literal: true });
  });

  it('ignores route constraints: the parameter still matches one segment', async () => {
    const res = await fetch(`${api}/things/abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('thing abc');
  });

  it('uses the function name as the route and GET+POST when the definition names neither', async () => {
    const get = await fetch(`${api}/fixture-default-route`);
    const post = await fetch(`${api}/fixture-default-route`, { method: 'POST' });
    expect([get.status, post.status]).toEqual([202, 202]);
    expect(await get.text()).toBe('accepted');
    const del = await fetch(`${api}/fixture-default-route`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, POST');
  });

  it('answers 405 with Allow for a method the route does not accept', async () => {
    const res = await fetch(`${api}/echo/1/items`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, PUT');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: string; requestId: string };
    expect(body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED', requestId: expect.any(String) });
    expect(res.headers.get('x-request-id')).toBe(body.requestId);
  });

  it('answers 404 problem+json for unknown routes and paths outside the route prefix', async () => {
    for (const url of [`${api}/nothing-here`, `${api}/echo`, `${host.url}/echo/1/items`]) {
      const res = await fetch(url);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found', code: 'ROUTE_NOT_FOUND', requestId: expect.any(String) });
    }
    const traced = await fetch(`${api}/nothing-here`, { headers: { 'x-request-id': 'trace-404' } });
    expect(await traced.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', requestId: 'trace-404' });
  });

  it('stops reading a body one byte over 1 MiB and hands the function what it read', async () => {
    const body = Buffer.alloc(MAX_REQUEST_BODY_BYTES + 64 * 1024, 0x61);
    const res = await fetch(`${api}/size`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: MAX_REQUEST_BODY_BYTES, declared: String(body.byteLength) });
  });

  it('answers 500 with a generic body when a function throws, and logs it', async () => {
    const res = await fetch(`${api}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('fixture failure');
    expect(logLines.some((l) => l.includes('[fixture-throws]') && l.includes('fixture failure'))).toBe(true);
  });

  it('writes each context log call as one line naming the function', async () => {
    await fetch(`${api}/echo/1/items`);
    expect(logLines).toContainEqual(expect.stringMatching(/ information \[fixture-echo\] \([0-9a-f-]{36}\) echo called\\nsecond line$/));
  });
});

describe('development host: storage queue triggers', () => {
  it('delivers a JSON message as the parsed object and deletes it after success', async () => {
    const queue = queues.getQueueClient(QUEUE);
    const delivered = once(fixtureEvents, 'delivered');
    await queue.sendMessage(JSON.stringify({ groupId: 'g1', requestId: 'r1' }));
    const [message, metadata] = (await delivered) as [unknown, { dequeueCount: number }];
    expect(message).toEqual({ groupId: 'g1', requestId: 'r1' });
    expect(metadata.dequeueCount).toBe(1);
    await eventually('the delivered message is deleted', async () => (await messageCount(queue)) === 0);
  });

  it('delivers text that is not JSON as the string', async () => {
    const delivered = once(fixtureEvents, 'delivered');
    await queues.getQueueClient(QUEUE).sendMessage('plain words');
    expect((await delivered)[0]).toBe('plain words');
  });

  it('retries a failing message five times, then moves it to <queue>-poison', async () => {
    const queue = queues.getQueueClient(FAILING_QUEUE);
    const poison = queues.getQueueClient(`${FAILING_QUEUE}-poison`);
    const attempts: number[] = [];
    const fifth = new Promise<void>((resolve) =>
      fixtureEvents.on('attempt', (count: number) => {
        attempts.push(count);
        if (count === 5) resolve();
      }),
    );
    await queue.sendMessage(JSON.stringify({ doomed: true }));
    await fifth;
    await eventually('the message reaches the poison queue', async () => (await poison.exists()) && (await messageCount(poison)) === 1);
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect((await poison.receiveMessages()).receivedMessageItems[0]?.messageText).toBe(JSON.stringify({ doomed: true }));
    expect(await messageCount(queue)).toBe(0);
  });
});

describe('development host: timer triggers', () => {
  it('fires a %SETTING% schedule with a Timer object', async () => {
    const [timer, functionName] = (await once(fixtureEvents, 'tick')) as [Timer, string];
    expect(functionName).toBe('fixture-timer');
    expect(typeof timer.isPastDue).toBe('boolean');
    expect(Date.parse(timer.scheduleStatus.next)).toBeGreaterThan(Date.parse(timer.scheduleStatus.lastUpdated));
  });
});

describe('development host: start-up', () => {
  it('fails to start, naming the setting, when a %SETTING% is missing, and warns when no function file matches', async () => {
    const lines: string[] = [];
    const start = startDevHost({
      port: 0,
      functionsGlob: 'test/fixtures/no-such-dir/*.js',
      storageConnectionString: storage,
      log: (line) => lines.push(line),
      registry: () => [{ kind: 'timer', name: 'needs-setting', options: { schedule: '%DEVHOST_TEST_MISSING%', handler: () => undefined } }],
    });
    await expect(start).rejects.toThrow(/DEVHOST_TEST_MISSING/);
    expect(lines).toContainEqual(expect.stringContaining('no function files match "test/fixtures/no-such-dir/*.js"'));
  });
});
