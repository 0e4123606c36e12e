/**
 * Mailbox events in the Graph emulator and the client that reads them, against Microsoft's
 * documented samples and rules (test/fixtures/graph/events.ts names each source).
 */
import { GRAPH_EMULATOR_DEFAULTS, startGraphEmulator, type GraphEmulator } from '../../dev/emulators/graph/server';
import { MailboxCalendars, type EventInput, type EventsResponse } from '../../dev/emulators/graph/events';
import { createEventReader, graphEventSchema, toCalendarEvent } from '../../shared/adapters/graph/events';
import { createSecretSource } from '../../shared/adapters/secrets';
import { parseConfig } from '../../shared/config';
import type { EventReader } from '../../shared/ports';
import { EVENT_DELTA_RESPONSE, EVENT_GET_RESPONSE_1 } from '../fixtures/graph/events';

let graph: GraphEmulator;
let reader: EventReader;
let token: string;
const MAILBOX = 'ana@contoso.test';

beforeAll(async () => {
  graph = await startGraphEmulator({ port: 0 });
  const env = {
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:1',
    VANTAGEPOINT_CLIENT_ID: 'x',
    VANTAGEPOINT_SERVICE_USERNAME: 'x',
    VANTAGEPOINT_CLIENT_SECRET: 'x',
    VANTAGEPOINT_SERVICE_PASSWORD: 'x',
    GRAPH_BASE_URL: `${graph.url}/v1.0`,
    GRAPH_AUTHORITY_HOST: graph.url,
    GRAPH_TENANT_ID: GRAPH_EMULATOR_DEFAULTS.tenantId,
    GRAPH_CLIENT_ID: GRAPH_EMULATOR_DEFAULTS.clientId,
    GRAPH_CLIENT_SECRET: GRAPH_EMULATOR_DEFAULTS.clientSecret,
    GRAPH_NOTIFICATION_URL: 'https://example.test/api/notifications/graph',
  };
  const config = parseConfig(env);
  reader = createEventReader(config, createSecretSource(config, { env }));
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: GRAPH_EMULATOR_DEFAULTS.clientId, client_secret: GRAPH_EMULATOR_DEFAULTS.clientSecret, scope: 'https://graph.microsoft.com/.default' });
  const res = await fetch(`${graph.url}/${GRAPH_EMULATOR_DEFAULTS.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: form });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await graph?.stop();
});

const input = (subject: string, extra: Partial<EventInput> = {}): EventInput =>
  ({
    subject,
    body: { contentType: 'text', content: 'Line one' },
    start: { dateTime: '2026-03-07T09:00:00', timeZone: 'Pacific Standard Time' },
    end: { dateTime: '2026-03-07T10:00:00', timeZone: 'Pacific Standard Time' },
    categories: ['Vantagepoint'],
    ...extra,
  }) as EventInput;

async function get(path: string, prefer?: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${graph.url}/v1.0${path}`, { headers: { authorization: `Bearer ${token}`, ...(prefer ? { prefer } : {}) } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('the client reads Microsoft’s documented samples', () => {
  it('GET event (event-get.md, Response 1): an HTML body becomes text; times and fields as given', () => {
    const event = toCalendarEvent(graphEventSchema.parse(EVENT_GET_RESPONSE_1));
    expect(event).toMatchObject({
      id: EVENT_GET_RESPONSE_1.id,
      subject: 'New Product Regulations Touchpoint',
      categories: [],
      sensitivity: 'normal',
      type: 'singleInstance',
      isCancelled: false,
      isAllDay: false,
      start: { dateTime: '2014-11-03T17:00:00.0000000', timeZone: 'UTC' },
    });
    expect(event.bodyText).toContain('New Product Regulations Strategy Online Touchpoint Meeting');
    expect(event.bodyText).not.toContain('<');
  });

  it('delta (event-delta.md): an item it cannot read is not fatal, and the nextLink is followed', () => {
    const items = EVENT_DELTA_RESPONSE.value.map((v) => graphEventSchema.safeParse(v).success);
    expect(items).toEqual([false]);
    expect(EVENT_DELTA_RESPONSE['@odata.nextLink']).toContain('$skiptoken=');
  });
});

describe('GET /users/{m}/events/{id}', () => {
  it('answers in UTC without a preference and in the preferred zone with Preference-Applied; HTML body unless text is asked for', async () => {
    const event = graph.calendars.create(MAILBOX, input('Zones'));
    const plain = await get(`/users/${MAILBOX}/events/${event.id}`);
    expect(plain.status).toBe(200);
    // 09:00 Pacific Standard Time on 7 March (PST, -8) is 17:00 UTC
    expect(plain.body.start).toEqual({ dateTime: '2026-03-07T17:00:00.0000000', timeZone: 'UTC' });
    expect((plain.body.body as { contentType: string }).contentType).toBe('html');
    expect(plain.body['@odata.etag']).toBe(`W/"${String(plain.body.changeKey)}"`);
    const preferred = await get(`/users/${MAILBOX}/events/${event.id}`, 'outlook.timezone="Eastern Standard Time", outlook.body-content-type="text"');
    expect(preferred.body.start).toEqual({ dateTime: '2026-03-07T12:00:00.0000000', timeZone: 'Eastern Standard Time' });
    expect(preferred.body.body).toEqual({ contentType: 'text', content: 'Line one' });
    expect(preferred.headers.get('preference-applied')).toContain('outlook.timezone="Eastern Standard Time"');
  });

  it('after the DST change the same wall time is an hour earlier in UTC', async () => {
    const event = graph.calendars.create(MAILBOX, input('After DST', { start: { dateTime: '2026-03-09T09:00:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-03-09T10:00:00', timeZone: 'Pacific Standard Time' } }));
    expect((await get(`/users/${MAILBOX}/events/${event.id}`)).body.start).toEqual({ dateTime: '2026-03-09T16:00:00.0000000', timeZone: 'UTC' });
  });

  it('a missing item is 404 ErrorItemNotFound; the client reads it as not found', async () => {
    const res = await get(`/users/${MAILBOX}/events/AAMkNoSuchItem`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'ErrorItemNotFound', message: expect.any(String) } });
    expect(await reader.get(MAILBOX, 'AAMkNoSuchItem')).toEqual({ found: false });
  });

  it('the client gets the event in UTC with a text body', async () => {
    const event = graph.calendars.create(MAILBOX, input('Client read', { body: { contentType: 'html', content: '<p>Hello <b>there</b></p>' } }));
    const read = await reader.get(MAILBOX, event.id);
    expect(read).toEqual({ found: true, event: expect.objectContaining({ id: event.id, subject: 'Client read', bodyText: 'Hello there', start: { dateTime: '2026-03-07T17:00:00.0000000', timeZone: 'UTC' } }) });
  });

  it('a mailbox Graph does not serve is a permanent mailbox failure, not "not found"', async () => {
    await expect(reader.get('missing-zed@contoso.test', 'AAMk1')).rejects.toThrow(/MailboxNotEnabledForRESTAPI/);
  });
});

describe('GET /users/{m}/calendarView/delta', () => {
  const mailbox = 'delta@contoso.test';

  it('needs the window on the first call of a round', async () => {
    const res = await get(`/users/${mailbox}/calendarView/delta`);
    expect(res.status).toBe(400);
    expect((res.body.error as { code: string }).code).toBe('ErrorInvalidParameter');
  });

  it('pages a round with nextLink, ends it with a deltaLink, and the next round has changes and @removed', async () => {
    const inWindow = Array.from({ length: 5 }, (_, i) => graph.calendars.create(mailbox, input(`E${i}`)));
    const outside = graph.calendars.create(mailbox, input('Far away', { start: { dateTime: '2027-06-01T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-06-01T10:00:00', timeZone: 'UTC' } }));
    const window = '?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-04-01T00:00:00Z';
    const first = await get(`/users/${mailbox}/calendarView/delta${window}`, 'odata.maxpagesize=2');
    expect(first.status).toBe(200);
    expect((first.body.value as unknown[]).length).toBe(2);
    expect(first.body['@odata.nextLink']).toMatch(/\$skiptoken=/);
    const seen = new Set<string>();
    let page = first;
    for (;;) {
      for (const item of page.body.value as Array<{ id: string }>) seen.add(item.id);
      const next = page.body['@odata.nextLink'] as string | undefined;
      if (!next) break;
      page = await get(next.slice(next.indexOf('/v1.0') + 5), 'odata.maxpagesize=2');
    }
    expect([...seen].sort()).toEqual(inWindow.map((e) => e.id).sort());
    const deltaLink = page.body['@odata.deltaLink'] as string;
    expect(deltaLink).toMatch(/\$deltatoken=/);

    graph.calendars.update(mailbox, inWindow[0]?.id ?? '', { subject: 'E0 edited' });
    graph.calendars.remove(mailbox, inWindow[1]?.id ?? '');
    graph.calendars.update(mailbox, outside.id, { subject: 'changed outside the window' });
    const next = await get(deltaLink.slice(deltaLink.indexOf('/v1.0') + 5));
    const value = next.body.value as Array<Record<string, unknown>>;
    expect(value).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: inWindow[0]?.id, subject: 'E0 edited' }),
        { id: inWindow[1]?.id, '@removed': { reason: 'deleted' } },
        { id: outside.id, '@removed': { reason: 'deleted' } },
      ]),
    );
    expect(value).toHaveLength(3);
  });

  it('a series is in the view as its occurrences, never as the master', async () => {
    const series = graph.calendars.create('series@contoso.test', input('Weekly', { recurrence: { pattern: { type: 'weekly', interval: 1 } } }));
    const page = await reader.delta('series@contoso.test', { start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' });
    expect(page.events).toEqual([expect.objectContaining({ type: 'occurrence' })]);
    expect(page.events[0]?.id).not.toBe(series.id);
    expect(page.deltaLink).toContain('$deltatoken=');
  });
});

describe('Outlook’s per-mailbox limits', () => {
  it('more than 4 requests in flight for one mailbox are answered 429', async () => {
    const event = graph.calendars.create('busy@contoso.test', input('Busy'));
    graph.setFaults({ latencyMs: [150, 150] });
    try {
      const statuses = await Promise.all(Array.from({ length: 6 }, () => get(`/users/busy@contoso.test/events/${event.id}`).then((r) => r.status)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(4);
      expect(statuses.filter((s) => s === 429)).toHaveLength(2);
      // the client keeps to 4 in flight, so the same burst through it is never throttled
      graph.resetStats();
      const reads = await Promise.all(Array.from({ length: 12 }, () => reader.get('busy@contoso.test', event.id)));
      expect(reads.every((r) => r.found)).toBe(true);
      expect(graph.stats().throttled).toBe(0);
      expect(graph.stats().maxConcurrentPerMailbox).toBeLessThanOrEqual(4);
    } finally {
      graph.setFaults({ latencyMs: [0, 0] });
    }
  });

  it('the 10,001st request in 10 minutes for one mailbox is answered 429 with Retry-After; other mailboxes are not affected', async () => {
    let now = 0;
    const host = {
      now: () => now,
      guarded: (_c: { applicationId: string }, _m: string, _w: boolean, action: () => Promise<EventsResponse>) => action(),
      notifyMailbox: () => Promise.resolve([]),
    };
    const calendars = new MailboxCalendars(host);
    const event = calendars.create('a@x.test', input('A'));
    const caller = { applicationId: 'app' };
    for (let i = 0; i < 10_000; i++) {
      const res = await calendars.graph(caller, 'GET', `/users/a@x.test/events/${event.id}`, undefined, 'http://g');
      if (res?.status !== 200) throw new Error(`request ${i} answered ${res?.status}`);
    }
    const over = await calendars.graph(caller, 'GET', `/users/a@x.test/events/${event.id}`, undefined, 'http://g');
    expect(over?.status).toBe(429);
    expect(Number(over?.headers?.['Retry-After'])).toBeGreaterThan(0);
    expect((await calendars.graph(caller, 'GET', `/users/b@x.test/events/${event.id}`, undefined, 'http://g'))?.status).toBe(404);
    now += 600_001;
    expect((await calendars.graph(caller, 'GET', `/users/a@x.test/events/${event.id}`, undefined, 'http://g'))?.status).toBe(200);
  });
});

describe('control routes', () => {
  it('POST, PATCH and DELETE /emulator/mailboxes/{m}/events validate like Graph and report the notifications sent', async () => {
    const base = `${graph.url}/emulator/mailboxes/ctl@contoso.test/events`;
    const bad = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'no times' }) });
    expect(bad.status).toBe(400);
    const zone = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input('z', { start: { dateTime: '2026-03-07T09:00:00', timeZone: 'Mars/Olympus' } })) });
    expect(zone.status).toBe(400);
    const created = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input('Control')) });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; notifications: unknown[]; changeKey: string };
    expect(body.notifications).toEqual([]); // no subscription on this mailbox
    const patched = await fetch(`${base}/${encodeURIComponent(body.id)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'Control 2' }) });
    expect(((await patched.json()) as { changeKey: string }).changeKey).not.toBe(body.changeKey);
    expect((await fetch(`${base}/${encodeURIComponent(body.id)}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${base}/${encodeURIComponent(body.id)}`, { method: 'DELETE' })).status).toBe(404);
  });
});
