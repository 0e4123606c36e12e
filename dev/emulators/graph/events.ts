/**
 * Mailbox calendars for the Graph emulator: events per mailbox, `GET /users/{m}/events/{id}`,
 * `GET /users/{m}/calendarView/delta`, and control routes that create, change and delete events
 * and notify the mailbox's subscriptions like Graph does. Shapes and rules, each from Microsoft's
 * docs (microsoft-graph-docs-contrib, api-reference/v1.0):
 * - resources/event.md: the event resource (changeKey, categories, sensitivity, type, isCancelled,
 *   isAllDay, start/end as dateTimeTimeZone, @odata.etag);
 * - api/event-get.md: `Prefer: outlook.timezone` (UTC when absent; `Preference-Applied` echoed) and
 *   `Prefer: outlook.body-content-type` (html when absent);
 * - api/event-delta.md: startDateTime/endDateTime required on the first call of a round;
 *   `@odata.nextLink` ($skiptoken) until the round ends with `@odata.deltaLink` ($deltatoken);
 *   `Prefer: odata.maxpagesize`; deleted events, and events changed outside the window, under
 *   `@removed` with reason "deleted"; calendarView expands a series into occurrences;
 * - concepts/throttling-limits.md (Outlook): 4 concurrent requests per app per mailbox (enforced by
 *   the server's guard) and 10,000 requests per 10 minutes per app per mailbox (here), 429 + Retry-After;
 * - a missing item: 404 ErrorItemNotFound.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { decodeToken, encodeToken, graphError, preferences, type RoundToken } from './calendarWire';
import { ianaOf, instantOf, renderIn } from './timeZones';

export interface EventsResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What the events part needs from the rest of the emulator. */
export interface EventsHost {
  now(): number;
  /** Graph's per-mailbox guard: concurrency, latency, injected faults, missing/forbidden mailboxes. */
  guarded(caller: { applicationId: string }, mailbox: string, write: boolean, action: () => Promise<EventsResponse>): Promise<EventsResponse>;
  /** Sends a change notification for the item to every live events subscription of the mailbox. */
  notifyMailbox(mailbox: string, changeType: 'created' | 'updated' | 'deleted', itemId: string): Promise<Array<{ subscriptionId: string; status: number | string }>>;
}

/** Outlook: 10,000 requests per 10 minutes per app per mailbox. */
const MAILBOX_REQUEST_LIMIT = 10_000;
const MAILBOX_REQUEST_WINDOW_MS = 600_000;
const DEFAULT_DELTA_PAGE = 10;
const MAX_DELTA_PAGE = 1000;

const dateTimeTimeZone = z.object({ dateTime: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'an ISO 8601 date-time'), timeZone: z.string().min(1).default('UTC') });

/** The body of POST /users/{m}/events (api/user-post-events.md), the properties the emulator keeps. */
const eventInput = z
  .object({
    subject: z.string().max(255).optional(),
    body: z.object({ contentType: z.enum(['text', 'html', 'Text', 'HTML']).default('text'), content: z.string().default('') }).optional(),
    start: dateTimeTimeZone,
    end: dateTimeTimeZone,
    categories: z.array(z.string()).optional(),
    sensitivity: z.enum(['normal', 'personal', 'private', 'confidential']).optional(),
    isAllDay: z.boolean().optional(),
    isCancelled: z.boolean().optional(),
    showAs: z.string().optional(),
    recurrence: z.unknown().optional(),
    location: z.object({ displayName: z.string() }).loose().optional(),
    attendees: z.array(z.unknown()).optional(),
  })
  .loose();
export type EventInput = z.infer<typeof eventInput>;

interface StoredEvent {
  id: string;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  /** the mailbox's change sequence at the last change (delta rounds compare against it) */
  seq: number;
  input: EventInput;
}

interface Mailbox {
  events: Map<string, StoredEvent>;
  /** deleted ids → the sequence of their deletion */
  deleted: Map<string, number>;
  seq: number;
  requests: number[];
}

const stripHtml = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ').trim();
const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class MailboxCalendars {
  private readonly mailboxes = new Map<string, Mailbox>();

  constructor(private readonly host: EventsHost) {}

  private mailbox(name: string): Mailbox {
    const key = name.toLowerCase();
    let box = this.mailboxes.get(key);
    if (!box) {
      box = { events: new Map(), deleted: new Map(), seq: 0, requests: [] };
      this.mailboxes.set(key, box);
    }
    return box;
  }

  // ------------------------------------------------------------ control (the "user" changing their calendar)

  create(mailbox: string, input: EventInput): StoredEvent {
    const box = this.mailbox(mailbox);
    const at = new Date(this.host.now()).toISOString();
    const event: StoredEvent = {
      id: `AAMkAG${randomBytes(30).toString('base64url')}`,
      changeKey: randomBytes(12).toString('base64'),
      createdDateTime: at,
      lastModifiedDateTime: at,
      seq: ++box.seq,
      input,
    };
    box.events.set(event.id, event);
    return event;
  }

  update(mailbox: string, id: string, patch: Partial<EventInput>): StoredEvent | null {
    const box = this.mailbox(mailbox);
    const event = box.events.get(id);
    if (!event) return null;
    event.input = { ...event.input, ...patch };
    event.changeKey = randomBytes(12).toString('base64');
    event.lastModifiedDateTime = new Date(this.host.now()).toISOString();
    event.seq = ++box.seq;
    return event;
  }

  remove(mailbox: string, id: string): boolean {
    const box = this.mailbox(mailbox);
    if (!box.events.delete(id)) return false;
    box.deleted.set(id, ++box.seq);
    return true;
  }

  list(mailbox: string): StoredEvent[] {
    return [...this.mailbox(mailbox).events.values()];
  }

  async control(method: string, pathname: string, body: unknown): Promise<EventsResponse | null> {
    const match = /^\/emulator\/mailboxes\/([^/]+)\/events(?:\/([^/]+))?$/.exec(pathname);
    if (!match?.[1]) return null;
    const mailbox = decodeURIComponent(match[1]).toLowerCase();
    const id = match[2] ? decodeURIComponent(match[2]) : undefined;
    if (!id && method === 'GET') return { status: 200, body: { value: this.list(mailbox).map((e) => this.render(e, 'UTC', 'text')) } };
    if (!id && method === 'POST') {
      const parsed = eventInput.safeParse(body ?? {});
      if (!parsed.success) return graphError(400, 'ErrorInvalidRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const problem = this.timesProblem(parsed.data);
      if (problem) return problem;
      const event = this.create(mailbox, parsed.data);
      const notifications = await this.host.notifyMailbox(mailbox, 'created', event.id);
      return { status: 201, body: { ...this.render(event, 'UTC', 'text'), notifications } };
    }
    if (id && method === 'PATCH') {
      const parsed = eventInput.partial().safeParse(body ?? {});
      if (!parsed.success) return graphError(400, 'ErrorInvalidRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const current = this.mailbox(mailbox).events.get(id);
      if (!current) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const problem = this.timesProblem({ ...current.input, ...parsed.data });
      if (problem) return problem;
      const event = this.update(mailbox, id, parsed.data) as StoredEvent;
      const notifications = await this.host.notifyMailbox(mailbox, 'updated', event.id);
      return { status: 200, body: { ...this.render(event, 'UTC', 'text'), notifications } };
    }
    if (id && method === 'DELETE') {
      if (!this.remove(mailbox, id)) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const notifications = await this.host.notifyMailbox(mailbox, 'deleted', id);
      return { status: 200, body: { id, notifications } };
    }
    return graphError(405, 'MethodNotAllowed', `${method} is not allowed on '${pathname}'.`);
  }

  /** Graph refuses unknown zones and an end before the start; all-day events must start and end at midnight. */
  private timesProblem(input: EventInput): EventsResponse | null {
    for (const side of [input.start, input.end]) {
      if (!ianaOf(side.timeZone)) return graphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. '${side.timeZone}' is not supported.`);
    }
    if (this.instant(input.end) < this.instant(input.start)) return graphError(400, 'ErrorInvalidRequest', 'The end of the event is before its start.');
    if (input.isAllDay && ![input.start, input.end].every((t) => /T00:00(:00(\.0+)?)?$/.test(t.dateTime))) {
      return graphError(400, 'ErrorInvalidRequest', 'An all-day event must start and end at midnight.');
    }
    return null;
  }

  private instant(t: { dateTime: string; timeZone: string }): number {
    return instantOf(t.dateTime, ianaOf(t.timeZone) ?? 'UTC');
  }

  // ------------------------------------------------------------ Graph

  async graph(caller: { applicationId: string }, method: string, path: string, prefer: string | undefined, origin: string): Promise<EventsResponse | null> {
    const url = new URL(path, 'http://graph');
    const single = /^\/users\/([^/]+)\/events\/([^/]+)$/i.exec(url.pathname);
    const delta = /^\/users\/([^/]+)\/calendarView\/delta$/i.exec(url.pathname);
    if (!single && !delta) return null;
    if (method !== 'GET') return graphError(405, 'ErrorInvalidRequest', `${method} is not supported here by the emulator.`);
    const mailbox = decodeURIComponent((single ?? delta)?.[1] ?? '').toLowerCase();
    const throttled = this.admit(mailbox);
    if (throttled) return throttled;
    return this.host.guarded(caller, mailbox, false, () =>
      Promise.resolve(single ? this.getEvent(mailbox, decodeURIComponent(single[2] ?? ''), prefer) : this.delta(mailbox, url.searchParams, prefer, origin)),
    );
  }

  /** 10,000 requests per 10 minutes per mailbox, sliding. */
  private admit(mailbox: string): EventsResponse | null {
    const box = this.mailbox(mailbox);
    const now = this.host.now();
    let expired = 0;
    while (expired < box.requests.length && (box.requests[expired] as number) <= now - MAILBOX_REQUEST_WINDOW_MS) expired++;
    if (expired > 0) box.requests.splice(0, expired);
    if (box.requests.length >= MAILBOX_REQUEST_LIMIT) {
      const retryAfter = Math.max(1, Math.ceil(((box.requests[0] ?? now) + MAILBOX_REQUEST_WINDOW_MS - now) / 1000));
      return graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': String(retryAfter) });
    }
    box.requests.push(now);
    return null;
  }

  private zoneFor(prefer: string | undefined): { zone: string; label: string; applied: string | null } {
    const wanted = preferences(prefer).timeZone;
    const iana = wanted ? ianaOf(wanted) : null;
    return wanted && iana ? { zone: iana, label: wanted, applied: `outlook.timezone="${wanted}"` } : { zone: 'UTC', label: 'UTC', applied: null };
  }

  private getEvent(mailbox: string, id: string, prefer: string | undefined): EventsResponse {
    const event = this.mailbox(mailbox).events.get(id);
    if (!event) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const { zone, label, applied } = this.zoneFor(prefer);
    const bodyType = preferences(prefer).bodyType ?? 'html';
    const headers: Record<string, string> = {};
    const appliedList = [applied, preferences(prefer).bodyType ? `outlook.body-content-type="${bodyType}"` : null].filter((p): p is string => p !== null);
    if (appliedList.length > 0) headers['Preference-Applied'] = appliedList.join(', ');
    return { status: 200, headers, body: { '@odata.etag': `W/"${event.changeKey}"`, ...this.render(event, zone, bodyType, label) } };
  }

  /** The event resource as Graph returns it, start/end in `zone` (all-day events keep their dates). */
  render(event: StoredEvent, zone: string, bodyType: 'text' | 'html', zoneLabel = zone): Record<string, unknown> {
    const input = event.input;
    const recurring = input.recurrence !== undefined && input.recurrence !== null;
    const content = input.body?.content ?? '';
    const sourceIsHtml = (input.body?.contentType ?? 'text').toLowerCase() === 'html';
    const text = sourceIsHtml ? stripHtml(content) : content;
    const html = sourceIsHtml ? content : `<html><body>${escapeHtml(content)}</body></html>`;
    const side = (t: { dateTime: string; timeZone: string }) =>
      input.isAllDay ? { dateTime: `${t.dateTime.slice(0, 10)}T00:00:00.0000000`, timeZone: zoneLabel } : { dateTime: renderIn(zone, this.instant(t)), timeZone: zoneLabel };
    return {
      id: event.id,
      createdDateTime: event.createdDateTime,
      lastModifiedDateTime: event.lastModifiedDateTime,
      changeKey: event.changeKey,
      categories: input.categories ?? [],
      transactionId: null,
      originalStartTimeZone: input.start.timeZone,
      originalEndTimeZone: input.end.timeZone,
      iCalUId: createHash('sha256').update(event.id).digest('hex').slice(0, 40).toUpperCase(),
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      hasAttachments: false,
      subject: input.subject ?? '',
      bodyPreview: text.slice(0, 255),
      importance: 'normal',
      sensitivity: input.sensitivity ?? 'normal',
      isAllDay: input.isAllDay ?? false,
      isCancelled: input.isCancelled ?? false,
      isOrganizer: true,
      responseRequested: true,
      seriesMasterId: null,
      showAs: input.showAs ?? 'busy',
      type: recurring ? 'seriesMaster' : 'singleInstance',
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(event.id)}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null,
      isOnlineMeeting: false,
      onlineMeetingProvider: 'unknown',
      allowNewTimeProposals: true,
      isDraft: false,
      hideAttendees: false,
      recurrence: recurring ? input.recurrence : null,
      responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
      body: bodyType === 'text' ? { contentType: 'text', content: text } : { contentType: 'html', content: html },
      start: side(input.start),
      end: side(input.end),
      location: { displayName: input.location?.displayName ?? '', locationType: 'default', uniqueIdType: 'unknown' },
      locations: [],
      attendees: input.attendees ?? [],
      organizer: { emailAddress: { name: '', address: '' } },
    };
  }

  /** calendarView semantics: the event overlaps [start, end). */
  private inWindow(event: StoredEvent, start: number, end: number): boolean {
    const s = this.instant(event.input.start);
    const e = this.instant(event.input.end);
    return s < end && (e > start || (e === s && s >= start));
  }

  /** calendarView expands a series: its occurrences, not the master, are in the view (one stands for all here). */
  private asViewItem(event: StoredEvent, zone: string, bodyType: 'text' | 'html', label: string): Record<string, unknown> {
    const item = this.render(event, zone, bodyType, label);
    if (item.type !== 'seriesMaster') return item;
    return { ...item, id: `${event.id}OCC1`, type: 'occurrence', seriesMasterId: event.id, recurrence: null };
  }

  private delta(mailbox: string, query: URLSearchParams, prefer: string | undefined, origin: string): EventsResponse {
    const box = this.mailbox(mailbox);
    const get = (name: string) => [...query.entries()].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ?? null;
    const skip = get('$skiptoken');
    const deltaToken = get('$deltatoken');
    let token: RoundToken;
    if (skip || deltaToken) {
      const decoded = decodeToken((skip ?? deltaToken) as string);
      if (!decoded || decoded.m !== mailbox) return graphError(400, 'ErrorInvalidParameter', 'The sync state token is invalid.');
      // a deltaLink starts the next round: changes since the previous round's end
      token = skip ? decoded : { ...decoded, since: decoded.upTo, upTo: box.seq, offset: 0 };
    } else {
      const start = Date.parse(`${get('startDateTime') ?? ''}`.replace(/(\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/, '$1Z'));
      const end = Date.parse(`${get('endDateTime') ?? ''}`.replace(/(\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/, '$1Z'));
      if (!Number.isFinite(start) || !Number.isFinite(end)) {
        return graphError(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
      }
      token = { m: mailbox, s: start, e: end, since: 0, upTo: box.seq, offset: 0 };
    }
    const { zone, label, applied } = this.zoneFor(prefer);
    const bodyType = preferences(prefer).bodyType ?? 'html';
    const pageSize = Math.min(MAX_DELTA_PAGE, Math.max(1, preferences(prefer).maxPageSize ?? DEFAULT_DELTA_PAGE));

    const items: Array<Record<string, unknown>> = [];
    const events = [...box.events.values()].filter((e) => e.seq > token.since && e.seq <= token.upTo).sort((a, b) => a.seq - b.seq);
    for (const event of events) {
      if (this.inWindow(event, token.s, token.e)) items.push(this.asViewItem(event, zone, bodyType, label));
      else if (token.since > 0) items.push({ id: event.id, '@removed': { reason: 'deleted' } });
    }
    if (token.since > 0) {
      for (const [id, seq] of box.deleted) if (seq > token.since && seq <= token.upTo) items.push({ id, '@removed': { reason: 'deleted' } });
    }
    const page = items.slice(token.offset, token.offset + pageSize);
    const base = `${origin}/v1.0/users/${encodeURIComponent(mailbox)}/calendarView/delta`;
    const more = token.offset + pageSize < items.length;
    const link = more
      ? { '@odata.nextLink': `${base}?$skiptoken=${encodeToken({ ...token, offset: token.offset + pageSize })}` }
      : { '@odata.deltaLink': `${base}?$deltatoken=${encodeToken({ ...token, offset: 0 })}` };
    return {
      status: 200,
      headers: applied ? { 'Preference-Applied': applied } : {},
      body: { '@odata.context': `${origin}/v1.0/$metadata#Collection(event)`, ...link, value: page },
    };
  }
}
