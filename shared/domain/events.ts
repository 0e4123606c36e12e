/**
 * Which Outlook events become Vantagepoint activities, and what the activity says.
 * Pure: no I/O, the clock is passed in. docs/DATA-SYNC.md explains each rule.
 */
import { createHash } from 'node:crypto';

/** Graph's dateTimeTimeZone: a wall-clock time and the zone it is in. */
export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

/** The part of Graph's event resource the sync reads. */
export interface CalendarEvent {
  id: string;
  changeKey: string | null;
  subject: string;
  /** the body as plain text (asked for with Prefer: outlook.body-content-type="text") */
  bodyText: string;
  categories: string[];
  /** normal, personal, private, confidential */
  sensitivity: string;
  /** singleInstance, occurrence, exception, seriesMaster */
  type: string;
  isCancelled: boolean;
  isAllDay: boolean;
  start: DateTimeTimeZone;
  end: DateTimeTimeZone;
}

export interface EligibilityRules {
  /** SYNC_CATEGORY */
  category: string;
  /** SYNC_WINDOW_DAYS */
  windowDays: number;
  now: Date;
}

export type SkipReason = 'NOT_TAGGED' | 'PRIVATE' | 'RECURRING' | 'CANCELLED' | 'ENDED_BEFORE_WINDOW';

export const SKIP_REASON_MESSAGES: Readonly<Record<SkipReason, string>> = {
  NOT_TAGGED: 'The meeting does not carry the Vantagepoint category.',
  PRIVATE: 'Private meetings never sync.',
  RECURRING: 'Only single meetings sync, not series or their occurrences.',
  CANCELLED: 'The meeting is cancelled.',
  ENDED_BEFORE_WINDOW: 'The meeting ended before the sync window.',
};

/** Times that cannot be read as UTC: the event is failed with this reason, never guessed. */
export class EventTimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventTimeError';
  }
}

const DAY_MS = 86_400_000;
const UTC_NAMES = new Set(['utc', 'etc/utc', 'etc/gmt', 'gmt', 'z', 'coordinated universal time', 'tzone://microsoft/utc']);

/** Graph writes up to 7 fractional digits and no offset: "2024-03-10T09:30:00.0000000". */
const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/;

function wallParts(text: string): number[] {
  const match = WALL_TIME.exec(text.trim().replace(/Z$/i, ''));
  if (!match) throw new EventTimeError(`'${text}' is not a date-time Graph would send.`);
  const [, y, mo, d, h, mi, s, frac] = match;
  return [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0), Math.floor(Number(`0.${frac ?? '0'}`) * 1000)];
}

function wallAsUtcMs(text: string): number {
  const [y, mo, d, h, mi, s, ms] = wallParts(text) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

/** Building a formatter is costly (tens of microseconds): one per zone is kept. */
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();
function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = FORMATTERS.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATTERS.set(zone, formatter);
  }
  return formatter;
}

/** Offset of an IANA zone at an instant, in ms (positive east of UTC). */
function zoneOffsetMs(zone: string, instantMs: number): number {
  const parts = formatterFor(zone).formatToParts(new Date(instantMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

function isIanaZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return zone.includes('/');
  } catch {
    return false;
  }
}

/**
 * The instant of a Graph dateTimeTimeZone. We ask Graph for UTC; an IANA zone is converted
 * (Graph may ignore the preference), anything else (a Windows zone name) is refused.
 */
export function toInstant(value: DateTimeTimeZone): Date {
  const zone = value.timeZone.trim();
  const wall = wallAsUtcMs(value.dateTime);
  if (UTC_NAMES.has(zone.toLowerCase())) return new Date(wall);
  if (!isIanaZone(zone)) throw new EventTimeError(`Time zone '${zone}' was returned instead of UTC.`);
  // Two passes settle the offset across a DST change.
  const first = wall - zoneOffsetMs(zone, wall);
  return new Date(wall - zoneOffsetMs(zone, first));
}

/** The calendar date (YYYY-MM-DD) of an all-day boundary: all-day events float, their date is what counts. */
export function toDate(value: DateTimeTimeZone): string {
  const [y, mo, d] = wallParts(value.dateTime) as [number, number, number];
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** When the event ends, for the window rule. An all-day event ends at the end of its last day (UTC). */
export function endInstant(event: Pick<CalendarEvent, 'isAllDay' | 'end'>): Date {
  return event.isAllDay ? new Date(Date.parse(`${toDate(event.end)}T00:00:00Z`)) : toInstant(event.end);
}

function hasCategory(categories: string[], category: string): boolean {
  const wanted = category.trim().toLowerCase();
  return categories.some((c) => c.trim().toLowerCase() === wanted);
}

/**
 * The rule (issue 12, Deltek's Connect help): tagged with the category, not private, a single
 * instance, not cancelled, ended no earlier than the window. The first failing rule is the reason.
 */
export function eligibility(event: CalendarEvent, rules: EligibilityRules): { eligible: true } | { eligible: false; reason: SkipReason } {
  if (!hasCategory(event.categories, rules.category)) return { eligible: false, reason: 'NOT_TAGGED' };
  if (event.sensitivity.toLowerCase() === 'private') return { eligible: false, reason: 'PRIVATE' };
  if (event.type !== 'singleInstance') return { eligible: false, reason: 'RECURRING' };
  if (event.isCancelled) return { eligible: false, reason: 'CANCELLED' };
  const windowStart = rules.now.getTime() - rules.windowDays * DAY_MS;
  if (endInstant(event).getTime() < windowStart) return { eligible: false, reason: 'ENDED_BEFORE_WINDOW' };
  return { eligible: true };
}

// ------------------------------------------------------------------ the activity

/** Vantagepoint's field lengths are not published; these bounds keep every write well inside plausible ones. */
export const SUBJECT_MAX = 255;
export const NOTES_MAX = 4000;

/** The fields we write on an activity, in Vantagepoint's names. Nothing that invites anyone. */
export interface ActivityFields {
  Type: string;
  Subject: string;
  /** UTC wall time, Vantagepoint's format "YYYY-MM-DDTHH:mm:ss.SSS" */
  StartDate: string;
  EndDate: string;
  AllDayEventInd: 'Y' | 'N';
  Notes: string;
  /** the member's employee (the activity's owner) */
  Owner: string;
}

function vantagepointTime(instant: Date): string {
  return instant.toISOString().replace(/Z$/, '');
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Line endings normalised, trailing space trimmed; Graph's text bodies carry \r\n. */
function plainText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * The reference we leave in an activity's Notes, so that an activity created just before a crash
 * (before our mapping row recorded it) can be found and adopted instead of created twice.
 */
export function syncReference(employeeId: string, eventId: string): string {
  return createHash('sha256').update(`${employeeId.toLowerCase()}\n${eventId}`, 'utf8').digest('hex').slice(0, 32).toUpperCase();
}

export function referenceLine(reference: string): string {
  return `[Connect Sync ${reference}]`;
}

/**
 * The activity for an eligible event. Timed events are written in UTC; all-day events as their
 * dates at midnight (Graph's exclusive end becomes the last day) with AllDayEventInd Y.
 */
export function toActivity(event: CalendarEvent, options: { activityType: string; employeeId: string }): ActivityFields {
  const reference = referenceLine(syncReference(options.employeeId, event.id));
  const body = bounded(plainText(event.bodyText), NOTES_MAX - reference.length - 2);
  const Notes = body.length > 0 ? `${body}\n\n${reference}` : reference;
  const Subject = bounded(event.subject.trim() || '(no subject)', SUBJECT_MAX);
  if (event.isAllDay) {
    const first = toDate(event.start);
    const endExclusive = toDate(event.end);
    const last = endExclusive > first ? addDays(endExclusive, -1) : first;
    return {
      Type: options.activityType,
      Subject,
      StartDate: `${first}T00:00:00.000`,
      EndDate: `${last}T00:00:00.000`,
      AllDayEventInd: 'Y',
      Notes,
      Owner: options.employeeId,
    };
  }
  const start = toInstant(event.start);
  const end = toInstant(event.end);
  return {
    Type: options.activityType,
    Subject,
    StartDate: vantagepointTime(start),
    EndDate: vantagepointTime(end < start ? start : end),
    AllDayEventInd: 'N',
    Notes,
    Owner: options.employeeId,
  };
}

/** A digest of what we would write: an event whose changeKey moved but whose activity would not change writes nothing. */
export function activityDigest(fields: ActivityFields): string {
  const ordered = Object.keys(fields)
    .sort()
    .map((k) => [k, fields[k as keyof ActivityFields]]);
  return createHash('sha256').update(JSON.stringify(ordered), 'utf8').digest('hex').slice(0, 32);
}

/** The mark left on an activity whose event left the rules, when Vantagepoint refuses DELETE. */
export const REMOVED_PREFIX = '[Removed from Outlook] ';

export function removedSubject(subject: string): string {
  return subject.startsWith(REMOVED_PREFIX) ? subject : bounded(`${REMOVED_PREFIX}${subject}`, SUBJECT_MAX);
}
