/**
 * The 6-field NCRONTAB schedules of Azure Functions timer triggers:
 * `second minute hour day-of-month month day-of-week`, evaluated in UTC (the
 * Functions host's default when WEBSITE_TIME_ZONE is not set).
 *
 * Each field accepts `*`, numbers, names (JAN–DEC, SUN–SAT), lists (`1,5`), ranges
 * (`1-5`) and steps (`*\/5`, `1-30/2`, `5/10`). Like the NCrontab library the host
 * uses, a time matches only when BOTH day-of-month and day-of-week match (classic
 * cron ORs them when both are restricted).
 */

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is accepted as a second Sunday, as most cron dialects do; it is folded to 0 below.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

/** No schedule that can match at all matches less often than once in 28 years (Feb 29 on a given weekday). */
const SEARCH_YEARS = 30;

export class NcrontabError extends Error {
  constructor(expression: string, reason: string) {
    super(`invalid NCRONTAB expression "${expression}": ${reason}`);
    this.name = 'NcrontabError';
  }
}

export interface NcrontabSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `after` (whole seconds, UTC). */
  next(after: Date): Date;
}

export function parseNcrontab(expression: string): NcrontabSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) throw new NcrontabError(expression, `expected 6 fields, got ${parts.length}`);
  const sets = FIELDS.map((spec, i) => parseField(parts[i] as string, spec, expression));
  const [seconds, minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.delete(7)) weekdays.add(0);
  const matcher: Matchers = { seconds, minutes, hours, days, months, weekdays };
  return { expression, next: (after) => nextMatch(matcher, after, expression) };
}

/** The first occurrence of `expression` strictly after `after`. */
export function nextOccurrence(expression: string, after: Date): Date {
  return parseNcrontab(expression).next(after);
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [rangeText, stepText, ...extra] = item.split('/');
    if (extra.length > 0 || rangeText === undefined || rangeText === '') throw new NcrontabError(expression, `bad ${spec.name} "${item}"`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, spec, expression, 1, 99);
    const [from, to] = parseRange(rangeText, spec, expression, stepText !== undefined);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** `*` is the whole range; `a/n` means `a-max/n`, as in NCrontab. */
function parseRange(text: string, spec: FieldSpec, expression: string, stepped: boolean): [number, number] {
  if (text === '*') return [spec.min, spec.max];
  const [fromText, toText, ...extra] = text.split('-');
  if (extra.length > 0 || fromText === undefined) throw new NcrontabError(expression, `bad ${spec.name} range "${text}"`);
  const from = parseValue(fromText, spec, expression);
  if (toText === undefined) return [from, stepped ? spec.max : from];
  const to = parseValue(toText, spec, expression);
  if (to < from) throw new NcrontabError(expression, `${spec.name} range "${text}" runs backwards`);
  return [from, to];
}

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + (spec.names === MONTH_NAMES ? 1 : 0);
  return parseNumber(text, spec, expression, spec.min, spec.max);
}

function parseNumber(text: string, spec: FieldSpec, expression: string, min: number, max: number): number {
  if (!/^\d{1,2}$/.test(text)) throw new NcrontabError(expression, `bad ${spec.name} value "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new NcrontabError(expression, `${spec.name} value ${value} is outside ${min}-${max}`);
  return value;
}

interface Matchers {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
}

/**
 * Walks forward from the coarsest field that does not match, resetting the finer
 * ones, so each step skips a whole month, day, hour or minute that cannot match.
 */
function nextMatch(m: Matchers, after: Date, expression: string): Date {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const limitYear = t.getUTCFullYear() + SEARCH_YEARS;
  while (t.getUTCFullYear() <= limitYear) {
    if (!m.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!m.days.has(t.getUTCDate()) || !m.weekdays.has(t.getUTCDay())) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!m.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!m.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else if (!m.seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
    } else {
      return t;
    }
  }
  throw new NcrontabError(expression, `no occurrence within ${SEARCH_YEARS} years`);
}
