import { ValidationError } from '../../shared/errors';
import { auditRowKey } from '../../shared/adapters/tables/audit';
import { decodeCursor, encodeCursor } from '../../shared/adapters/tables/cursor';
import { MAX_ENTITY_BYTES, MAX_STRING_CHARS, checkEntity, checkKey, chunk, entitySize, foldCase } from '../../shared/adapters/tables/limits';
import { isPlainHttp } from '../../shared/adapters/tables/target';
import { checkQueueName } from '../../shared/adapters/queues';

function validationFields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.errors.map((e) => e.field);
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('storage keys', () => {
  it.each(['a/b', 'a\\b', 'a#b', 'a?b', 'a\u0000b', 'a\u001fb', 'a\u007fb', 'a\u0085b', 'a\u009fb', ''])('rejects %j naming the field', (bad) => {
    expect(validationFields(() => checkKey('employeeId', bad))).toEqual(['employeeId']);
  });

  it('accepts ordinary ids and returns them with the row prefix', () => {
    expect(checkKey('id', 'E-100.x_y z', 'm|')).toBe('m|E-100.x_y z');
    expect(checkKey('id', 'Zoë')).toBe('Zoë');
  });

  it('limits a key (with its prefix) to 1 KiB of UTF-16', () => {
    expect(checkKey('id', 'a'.repeat(512))).toHaveLength(512);
    expect(validationFields(() => checkKey('id', 'a'.repeat(513)))).toEqual(['id']);
    expect(validationFields(() => checkKey('id', 'a'.repeat(511), 'm|'))).toEqual(['id']);
  });

  it('rejects values that are not strings', () => {
    expect(validationFields(() => checkKey('id', 42))).toEqual(['id']);
  });
});

describe('entity limits', () => {
  const row = (extra: Record<string, unknown>) => ({ partitionKey: 'p', rowKey: 'r', ...extra });

  it('computes the documented size formula', () => {
    // 4 + (1+1)*2 = 8; "ab": 8 + 2*2 + 4 + 3*2 = 22; "n": 8 + 2 + 8 = 18; "f": 8 + 2 + 1 = 11
    expect(entitySize(row({ ab: 'xyz', n: 5, f: true }))).toBe(8 + 22 + 18 + 11);
  });

  it('rejects a string longer than 32K characters naming the property', () => {
    expect(validationFields(() => checkEntity(row({ description: 'x'.repeat(MAX_STRING_CHARS + 1) })))).toEqual(['description']);
    expect(() => checkEntity(row({ description: 'x'.repeat(MAX_STRING_CHARS) }))).not.toThrow();
  });

  it('rejects an entity over 1 MiB', () => {
    const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, 'x'.repeat(30_000)]));
    expect(entitySize(row(big))).toBeGreaterThan(MAX_ENTITY_BYTES);
    expect(validationFields(() => checkEntity(row(big)))).toEqual(['entity']);
  });

  it('rejects more than 252 custom properties', () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
    expect(() => checkEntity(row(many(252)))).not.toThrow();
    expect(validationFields(() => checkEntity(row(many(253))))).toEqual(['entity']);
  });
});

describe('continuation tokens', () => {
  it('round-trip any key, opaque and URL-safe', () => {
    for (const key of ['g|abc', 'm|Zoë 1', "it's", '']) {
      const token = encodeCursor(key);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(token)).toBe(key);
    }
  });

  it('absent token means the first page', () => {
    expect(decodeCursor(undefined)).toBeNull();
    expect(decodeCursor('')).toBeNull();
  });

  it.each(['%%%', 'bm90IGpzb24', Buffer.from('{"v":2,"after":"x"}').toString('base64url'), Buffer.from('[1]').toString('base64url')])(
    'rejects %s as a validation error on the token',
    (bad) => {
      expect(validationFields(() => decodeCursor(bad))).toEqual(['query.continuationToken']);
    },
  );
});

describe('small helpers', () => {
  it('audit keys sort newest first', () => {
    const older = auditRowKey('2024-01-01T00:00:00.000Z', 'a');
    const newer = auditRowKey('2024-01-01T00:00:00.001Z', 'a');
    expect(newer < older).toBe(true);
    expect(older).toMatch(/^\d{13}\|a$/);
  });

  it('folds case for name uniqueness', () => {
    expect(foldCase('Sales TEAM')).toBe(foldCase('sales team'));
  });

  it('chunks without losing items', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('recognises plain-http connection strings', () => {
    expect(isPlainHttp('DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k')).toBe(true);
    expect(isPlainHttp('DefaultEndpointsProtocol=https;AccountName=a;TableEndpoint=http://127.0.0.1:1/a;')).toBe(true);
    expect(isPlainHttp('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net')).toBe(false);
  });

  it('validates queue names', () => {
    expect(checkQueueName('t1-reconcile-requests')).toBe('t1-reconcile-requests');
    for (const bad of ['ab', 'Upper', 'a--b', '-ab', 'ab-']) expect(() => checkQueueName(bad)).toThrow();
  });
});
