/**
 * Time zones as the Graph emulator handles them: the Windows zone names Graph accepts (a subset,
 * mapped to IANA), wall-clock time ↔ instant, and Graph's seven-digit wall-clock format.
 * Independent of the client's own conversion (shared/domain/events.ts), so the two check each other.
 */
/** Windows zone names Graph accepts in Prefer and in event bodies, mapped to IANA (a subset). */
const WINDOWS_ZONES: Record<string, string> = {
  utc: 'UTC',
  'pacific standard time': 'America/Los_Angeles',
  'mountain standard time': 'America/Denver',
  'central standard time': 'America/Chicago',
  'eastern standard time': 'America/New_York',
  'gmt standard time': 'Europe/London',
  'w. europe standard time': 'Europe/Berlin',
  'romance standard time': 'Europe/Paris',
  'central europe standard time': 'Europe/Budapest',
  'aus eastern standard time': 'Australia/Sydney',
  'tokyo standard time': 'Asia/Tokyo',
  'india standard time': 'Asia/Kolkata',
};

export function ianaOf(zone: string): string | null {
  const known = WINDOWS_ZONES[zone.trim().toLowerCase()];
  if (known) return known;
  try {
    formatterFor(zone.trim());
    return zone.trim();
  } catch {
    return null;
  }
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

function partsIn(zone: string, instant: number): number[] {
  const parts = formatterFor(zone).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
}

/** The instant of a wall-clock time in a zone (searching the offset twice settles DST changes). */
export function instantOf(dateTime: string, zone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(dateTime);
  if (!m) return NaN;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const offset = (at: number) => {
    const [y, mo, d, h, mi, s] = partsIn(zone, at) as [number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi, s) - at;
  };
  const first = wall - offset(wall);
  return wall - offset(first);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Graph's wall-clock format: seven fractional digits, no offset. */
export function renderIn(zone: string, instant: number): string {
  const [y, mo, d, h, mi, s] = partsIn(zone, instant) as [number, number, number, number, number, number];
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}.0000000`;
}

