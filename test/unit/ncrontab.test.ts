import fc from 'fast-check';
import { NcrontabError, nextOccurrence, parseNcrontab } from '../../dev/ncrontab';

const at = (iso: string): Date => new Date(iso);
const next = (expression: string, after: string): string => nextOccurrence(expression, at(after)).toISOString();

describe('nextOccurrence', () => {
  it('every second fires on the next whole second, strictly after the given time', () => {
    expect(next('* * * * * *', '2025-03-01T10:00:00.000Z')).toBe('2025-03-01T10:00:01.000Z');
    expect(next('* * * * * *', '2025-03-01T10:00:00.400Z')).toBe('2025-03-01T10:00:01.000Z');
  });

  it('steps over a whole range: every five minutes (the reconciler default)', () => {
    expect(next('0 */5 * * * *', '2025-03-01T10:02:30Z')).toBe('2025-03-01T10:05:00.000Z');
    expect(next('0 */5 * * * *', '2025-03-01T10:05:00Z')).toBe('2025-03-01T10:10:00.000Z');
    expect(next('0 */5 * * * *', '2025-03-01T23:58:00Z')).toBe('2025-03-02T00:00:00.000Z');
  });

  it('supports lists and ranges, and steps within a range', () => {
    expect(next('0 0 9,17 * * *', '2025-03-01T09:00:00Z')).toBe('2025-03-01T17:00:00.000Z');
    expect(next('0 0 9-11 * * *', '2025-03-01T11:30:00Z')).toBe('2025-03-02T09:00:00.000Z');
    expect(next('0 10-30/10 * * * *', '2025-03-01T10:20:00Z')).toBe('2025-03-01T10:30:00.000Z');
    expect(next('0 10-30/10 * * * *', '2025-03-01T10:30:00Z')).toBe('2025-03-01T11:10:00.000Z');
  });

  it('treats "start/step" as running from start to the end of the field', () => {
    expect(next('5/20 * * * * *', '2025-03-01T10:00:26Z')).toBe('2025-03-01T10:00:45.000Z');
    expect(next('5/20 * * * * *', '2025-03-01T10:00:45Z')).toBe('2025-03-01T10:01:05.000Z');
  });

  it('rolls over months and years', () => {
    expect(next('0 0 0 1 * *', '2025-01-31T12:00:00Z')).toBe('2025-02-01T00:00:00.000Z');
    expect(next('0 0 0 1 1 *', '2025-01-31T12:00:00Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(next('0 0 0 31 * *', '2025-04-01T00:00:00Z')).toBe('2025-05-31T00:00:00.000Z');
  });

  it('finds Feb 29 in the next leap year', () => {
    expect(next('0 0 0 29 2 *', '2025-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('accepts month and weekday names, and 7 as Sunday', () => {
    // 2025-03-01 is a Saturday
    expect(next('0 30 9 * * MON-FRI', '2025-03-01T00:00:00Z')).toBe('2025-03-03T09:30:00.000Z');
    expect(next('0 0 12 * * 7', '2025-03-01T00:00:00Z')).toBe('2025-03-02T12:00:00.000Z');
    expect(next('0 0 0 1 jun *', '2025-03-01T00:00:00Z')).toBe('2025-06-01T00:00:00.000Z');
  });

  it('requires both day-of-month and day-of-week to match, like NCrontab', () => {
    // the next Friday the 13th after 2025-03-01 is 2025-06-13
    expect(next('0 0 0 13 * FRI', '2025-03-01T00:00:00Z')).toBe('2025-06-13T00:00:00.000Z');
  });

  it('rejects malformed expressions with a message naming the problem', () => {
    expect(() => parseNcrontab('* * * * *')).toThrow(/expected 6 fields/);
    expect(() => parseNcrontab('60 * * * * *')).toThrow(/second value 60 is outside 0-59/);
    expect(() => parseNcrontab('* * 5-2 * * *')).toThrow(/runs backwards/);
    expect(() => parseNcrontab('*/0 * * * * *')).toThrow(NcrontabError);
    expect(() => parseNcrontab('a * * * * *')).toThrow(/bad second value/);
    expect(() => parseNcrontab('* * * * FOO *')).toThrow(NcrontabError);
    expect(() => parseNcrontab('%RECONCILE_SCHEDULE%')).toThrow(NcrontabError);
  });

  it('reports a schedule that can never fire instead of looping', () => {
    expect(() => nextOccurrence('0 0 0 30 2 *', at('2025-01-01T00:00:00Z'))).toThrow(/no occurrence/);
  });

  it('agrees with a second-by-second scan for time-of-day schedules', () => {
    const field = (max: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min: 0, max }).map(String),
        fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc.integer({ min: 1, max: 30 }).map((s) => `*/${s}`),
      );
    const matches = (schedule: [string, string, string], d: Date) =>
      [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours()].every((v, i) => fieldHas(schedule[i] as string, v));
    fc.assert(
      fc.property(field(59), field(59), field(23), fc.integer({ min: 0, max: 86_399_999 }), (s, m, h, offset) => {
        const after = new Date(Date.UTC(2025, 5, 1) + offset);
        const found = nextOccurrence(`${s} ${m} ${h} * * *`, after);
        let scan = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
        while (!matches([s, m, h], scan)) scan = new Date(scan.getTime() + 1000);
        expect(found.toISOString()).toBe(scan.toISOString());
      }),
      { numRuns: 40 },
    );
  });
});

/** Independent reading of one field for the oracle: `*`, `n`, `a-b`, `*\/s`. */
function fieldHas(field: string, value: number): boolean {
  if (field === '*') return true;
  if (field.startsWith('*/')) return value % Number(field.slice(2)) === 0;
  const [a, b] = field.split('-').map(Number) as [number, number | undefined];
  return b === undefined ? value === a : value >= a && value <= b;
}
