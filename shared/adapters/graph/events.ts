/**
 * Reading mailbox events from Microsoft Graph for the data sync: one event
 * (GET /users/{m}/events/{id}) and calendarView/delta rounds. Times are asked for in
 * UTC and bodies as text (Prefer: outlook.timezone, outlook.body-content-type; docs:
 * api-reference/v1.0/api/event-get.md, event-delta.md). Outlook's per-mailbox limits
 * are kept client side: at most 4 requests in flight per mailbox (shared with the
 * subscription writes) and 10,000 per 10 minutes; a 429's Retry-After is honoured.
 */
import { z } from 'zod';
import type { Config } from '../../config';
import type { CalendarEvent } from '../../domain/events';
import { ServiceUnavailableError } from '../../errors';
import type { DeltaPage, EventRead, EventReader, SecretSource } from '../../ports';
import { createGraphCredential, GRAPH_SCOPE, type RefreshableCredential } from './credential';
import { defaultMailboxSemaphore, KeyedSemaphore, systemClock, WriteLimiter, type Clock } from './limiter';
import { retryAfterMs } from './operations';

/** Outlook: 10,000 API requests per 10 minutes per app per mailbox (throttling-limits.md). */
export const MAILBOX_REQUEST_LIMIT = { limit: 10_000, windowMs: 600_000 } as const;
/** Delta pages of this many events (Prefer: odata.maxpagesize). */
export const DELTA_PAGE_SIZE = 50;
const TIMEOUT_MS = 15_000;
/** A 429 or 5xx is retried in place this many times when its wait is short; otherwise the caller reschedules. */
const IN_PLACE_RETRIES = 2;
const IN_PLACE_MAX_WAIT_MS = 5_000;

/** A mailbox the app cannot read (403 / 404 MailboxNotEnabledForRESTAPI): nothing to retry. */
export class MailboxUnavailableError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MailboxUnavailableError';
  }
}

const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');
const dateTimeTimeZone = z.object({ dateTime: z.string(), timeZone: z.string().nullish().transform((v) => v ?? 'UTC') });

/** Graph's event resource (api-reference/v1.0/resources/event.md), the fields we use; others are ignored. */
export const graphEventSchema = z.object({
  id: z.string().min(1),
  changeKey: z.string().nullish().transform((v) => v ?? null),
  subject: text,
  body: z.object({ contentType: text, content: text }).nullish(),
  bodyPreview: text,
  categories: z.array(z.string()).nullish().transform((v) => v ?? []),
  sensitivity: text.transform((v) => v || 'normal'),
  type: text.transform((v) => v || 'singleInstance'),
  isCancelled: z.boolean().nullish().transform((v) => v ?? false),
  isAllDay: z.boolean().nullish().transform((v) => v ?? false),
  start: dateTimeTimeZone,
  end: dateTimeTimeZone,
});

const removedSchema = z.object({ id: z.string().min(1), '@removed': z.object({ reason: z.string().optional() }).loose() });
const deltaResponseSchema = z.object({
  value: z.array(z.unknown()),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
});

/** Strips HTML when Graph sent HTML anyway (the text preference is a preference). */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

export function toCalendarEvent(raw: z.infer<typeof graphEventSchema>): CalendarEvent {
  const body = raw.body ?? null;
  const bodyText = body ? (body.contentType.toLowerCase() === 'html' ? htmlToText(body.content) : body.content) : raw.bodyPreview;
  return {
    id: raw.id,
    changeKey: raw.changeKey,
    subject: raw.subject,
    bodyText,
    categories: raw.categories,
    sensitivity: raw.sensitivity,
    type: raw.type,
    isCancelled: raw.isCancelled,
    isAllDay: raw.isAllDay,
    start: raw.start,
    end: raw.end,
  };
}

export interface EventReaderOptions {
  credential?: RefreshableCredential;
  fetch?: typeof fetch;
  /** per-mailbox concurrency, shared with the subscription writes */
  mailboxes?: KeyedSemaphore;
  clock?: Clock;
}

interface GraphAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

class GraphEventReader implements EventReader {
  private readonly fetchImpl: typeof fetch;
  private readonly mailboxes: KeyedSemaphore;
  private readonly clock: Clock;
  private readonly windows = new Map<string, WriteLimiter>();
  /** Graph requests made, for the benchmark's reads-per-event figure. */
  requests = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly credential: RefreshableCredential,
    options: EventReaderOptions,
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.mailboxes = options.mailboxes ?? defaultMailboxSemaphore();
    this.clock = options.clock ?? systemClock;
  }

  async get(mailbox: string, eventId: string): Promise<EventRead> {
    const url = `${this.baseUrl}/users/${encodeURIComponent(mailbox)}/events/${encodeURIComponent(eventId)}`;
    const answer = await this.call(mailbox, url, 'outlook.timezone="UTC", outlook.body-content-type="text"');
    if (answer.status === 404 && errorCode(answer.body) !== 'MailboxNotEnabledForRESTAPI') return { found: false };
    this.throwUnlessOk(answer, `GET event`);
    const parsed = graphEventSchema.safeParse(answer.body);
    if (!parsed.success) throw new ServiceUnavailableError('graph', `Graph answered an event this client cannot read (${parsed.error.issues[0]?.path.join('.') ?? '?'}).`, 60);
    return { found: true, event: toCalendarEvent(parsed.data) };
  }

  async delta(mailbox: string, from: { link: string } | { start: string; end: string }): Promise<DeltaPage> {
    let url: string;
    if ('link' in from) {
      // Only ever follow links back to the Graph we were configured with.
      if (!from.link.startsWith(`${this.baseUrl}/`)) throw new Error('a delta link must point at the configured Graph endpoint');
      url = from.link;
    } else {
      const query = new URLSearchParams({ startDateTime: from.start, endDateTime: from.end });
      url = `${this.baseUrl}/users/${encodeURIComponent(mailbox)}/calendarView/delta?${query.toString()}`;
    }
    const answer = await this.call(mailbox, url, `outlook.timezone="UTC", outlook.body-content-type="text", odata.maxpagesize=${DELTA_PAGE_SIZE}`);
    this.throwUnlessOk(answer, 'calendarView/delta');
    const page = deltaResponseSchema.safeParse(answer.body);
    if (!page.success) throw new ServiceUnavailableError('graph', 'Graph answered a delta page this client cannot read.', 60);
    const events: CalendarEvent[] = [];
    const removed: string[] = [];
    for (const item of page.data.value) {
      const gone = removedSchema.safeParse(item);
      if (gone.success) {
        removed.push(gone.data.id);
        continue;
      }
      const event = graphEventSchema.safeParse(item);
      if (event.success) events.push(toCalendarEvent(event.data));
      else if (typeof (item as { id?: unknown }).id === 'string') removed.push((item as { id: string }).id); // unreadable: re-read it on its own
    }
    return { events, removed, nextLink: page.data['@odata.nextLink'] ?? null, deltaLink: page.data['@odata.deltaLink'] ?? null };
  }

  private throwUnlessOk(answer: GraphAnswer, what: string): void {
    if (answer.status >= 200 && answer.status < 300) return;
    const code = errorCode(answer.body);
    if (answer.status === 403 || (answer.status === 404 && code === 'MailboxNotEnabledForRESTAPI')) {
      throw new MailboxUnavailableError(answer.status, code, `Graph refused ${what} for this mailbox (${answer.status} ${code}).`);
    }
    const retryMs = retryAfterMs(answer.headers) ?? 5_000;
    throw new ServiceUnavailableError('graph', `Graph answered ${answer.status} ${code} to ${what}.`, Math.ceil(retryMs / 1000));
  }

  private window(mailbox: string): WriteLimiter {
    let window = this.windows.get(mailbox);
    if (!window) {
      window = new WriteLimiter({ ...MAILBOX_REQUEST_LIMIT, clock: this.clock });
      this.windows.set(mailbox, window);
    }
    return window;
  }

  /** One GET under the mailbox's limits, with short in-place retries on 429/5xx. */
  private async call(mailbox: string, url: string, prefer: string): Promise<GraphAnswer> {
    const key = mailbox.toLowerCase();
    for (let attempt = 0; ; attempt++) {
      await this.window(key).acquire();
      while (!this.mailboxes.tryAcquire(key)) await this.mailboxes.whenReleased();
      let answer: GraphAnswer;
      try {
        answer = await this.send(url, prefer);
      } finally {
        this.mailboxes.release(key);
      }
      const retryable = answer.status === 429 || answer.status >= 500;
      const wait = retryAfterMs(answer.headers) ?? 1000 * (attempt + 1);
      if (!retryable || attempt >= IN_PLACE_RETRIES || wait > IN_PLACE_MAX_WAIT_MS) return answer;
      await this.clock.sleep(wait);
    }
  }

  private async send(url: string, prefer: string): Promise<GraphAnswer> {
    this.requests++;
    for (let auth = 0; ; auth++) {
      const token = await this.credential.getToken(GRAPH_SCOPE);
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          headers: { authorization: `Bearer ${token.token}`, accept: 'application/json', prefer },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        return { status: 503, body: { error: { code: 'Unreachable', message: err instanceof Error ? err.message : String(err) } }, headers: new Headers() };
      }
      const body = await response.json().catch(() => null);
      if (response.status === 401 && auth === 0) {
        this.credential.invalidate();
        continue;
      }
      return { status: response.status, body, headers: response.headers };
    }
  }
}

function errorCode(body: unknown): string {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : 'Unknown';
}

export type CountingEventReader = EventReader & { readonly requests: number };

export function createEventReader(config: Config, secrets: SecretSource, options: EventReaderOptions = {}): CountingEventReader {
  return new GraphEventReader(config.GRAPH_BASE_URL, options.credential ?? createGraphCredential(config, secrets, options.fetch), options);
}
