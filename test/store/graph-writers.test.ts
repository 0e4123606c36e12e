import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { createStorage, type Storage } from '../../shared/adapters/tables';

let storage: Storage;
let tag: string;

beforeAll(async () => {
  tag = randomBytes(4).toString('hex');
  storage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `gw${tag}`, queuePrefix: `gw${tag}-` });
  await storage.ensureReady();
});

describe('Graph writer registry', () => {
  const at = (iso: string) => new Date(iso);

  it('counts the writers whose beat has not expired, itself included', async () => {
    const now = at('2026-01-01T10:00:00.000Z');
    expect(await storage.graphWriters.beat('a', at('2026-01-01T10:00:30.000Z'), now)).toBe(1);
    expect(await storage.graphWriters.beat('b', at('2026-01-01T10:00:30.000Z'), now)).toBe(2);
    // 40 s later only b has beaten again: a has dropped out
    const later = at('2026-01-01T10:00:40.000Z');
    expect(await storage.graphWriters.beat('b', at('2026-01-01T10:01:10.000Z'), later)).toBe(1);
  });

  it('forgets instances gone for an hour, so the partition stays small', async () => {
    const now = at('2026-01-01T12:00:00.000Z');
    await storage.graphWriters.beat('old', at('2026-01-01T10:30:00.000Z'), at('2026-01-01T10:29:30.000Z'));
    expect(await storage.graphWriters.beat('new', at('2026-01-01T12:00:30.000Z'), now)).toBe(1);
    const table = TableClient.fromConnectionString(process.env.TEST_STORAGE_CONNECTION as string, `gw${tag}GraphWriters`, { allowInsecureConnection: true });
    const rows: string[] = [];
    for await (const row of table.listEntities()) rows.push(row.rowKey as string);
    expect(rows).not.toContain('old');
    expect(rows).toContain('new');
  });
});
