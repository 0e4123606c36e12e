import { randomBytes } from 'node:crypto';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { ConflictError, PreconditionFailedError, ValidationError } from '../../shared/errors';
import type { ActivityLink } from '../../shared/ports';
import { emptyDataSyncState } from '../../shared/operations/dataSync/record';

let storage: Storage;

beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  storage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `ds${tag}`, queuePrefix: `ds${tag}-` });
  await storage.ensureReady();
});

const link = (employeeId: string, eventId: string, extra: Partial<ActivityLink> = {}): Omit<ActivityLink, 'etag'> => ({
  employeeId,
  eventId,
  state: 'creating',
  activityId: null,
  changeKey: null,
  digest: null,
  reference: 'ABC',
  intentAt: '2026-01-01T00:00:00.000Z',
  subject: 'S',
  lastSyncedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('ActivityLinkStore', () => {
  // Graph event ids are long and may hold characters a table key cannot
  const eventId = `AAMkAGI2/+=${'x'.repeat(300)}`;

  it('an intent is create-only (the second of two racing attempts gets a ConflictError); replaces need the current ETag', async () => {
    const intent = await storage.activityLinks.save(link('E1', eventId), null);
    await expect(storage.activityLinks.save(link('E1', eventId), null)).rejects.toBeInstanceOf(ConflictError);
    const synced = await storage.activityLinks.save(link('E1', eventId, { state: 'synced', activityId: 'A1', changeKey: 'ck' }), intent.etag);
    await expect(storage.activityLinks.save(link('E1', eventId), intent.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await storage.activityLinks.get('E1', eventId)).toEqual(synced);
    await expect(storage.activityLinks.delete('E1', eventId, intent.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    await storage.activityLinks.delete('E1', eventId, synced.etag);
    expect(await storage.activityLinks.get('E1', eventId)).toBeNull();
    await storage.activityLinks.delete('E1', eventId, synced.etag); // already gone: fine
  });

  it('lists a user’s links only (not their state row, not other users’), paged', async () => {
    for (let i = 0; i < 5; i++) await storage.activityLinks.save(link('E2', `ev${i}`), null);
    await storage.activityLinks.save(link('E3', 'other'), null);
    await storage.dataSyncState.save(emptyDataSyncState('E2', new Date()), null);
    const first = await storage.activityLinks.listForUser('E2', { top: 3 });
    const second = await storage.activityLinks.listForUser('E2', { top: 3, continuationToken: first.continuationToken ?? undefined });
    expect([...first.items, ...second.items].map((l) => l.eventId).sort()).toEqual(['ev0', 'ev1', 'ev2', 'ev3', 'ev4']);
    expect(second.continuationToken).toBeNull();
  });

  it('refuses an employee id that cannot be a key, naming the field', async () => {
    await expect(storage.activityLinks.get('a/b', 'x')).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('DataSyncStateStore', () => {
  it('round-trips counters, last item, last error and the delta state under its ETag', async () => {
    const created = await storage.dataSyncState.save(
      {
        ...emptyDataSyncState('E4', new Date('2026-01-01T00:00:00Z')),
        created: 3,
        lastItem: { eventId: 'ev', outcome: 'created', at: 't', requestId: 'r' },
        lastError: { code: 'C', message: 'm', at: 't' },
        delta: { deltaLink: 'https://graph/x?$deltatoken=1', windowStart: 'a', windowEnd: 'b', completedAt: 'c' },
      },
      null,
    );
    expect(await storage.dataSyncState.get('E4')).toEqual(created);
    await expect(storage.dataSyncState.save(emptyDataSyncState('E4', new Date()), null)).rejects.toBeInstanceOf(ConflictError);
    const next = await storage.dataSyncState.save({ ...created, created: 4 }, created.etag);
    await expect(storage.dataSyncState.save({ ...created, created: 5 }, created.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect((await storage.dataSyncState.get('E4'))?.created).toBe(next.created);
  });
});

describe('SyncIssueStore', () => {
  it('opens, lists, counts (overall and for a page of members) and resolves issues', async () => {
    const at = new Date().toISOString();
    await storage.syncIssues.put({ employeeId: 'I1', eventId: 'ev1', code: 'VANTAGEPOINT_REJECTED', message: 'm', at, requestId: 'r' });
    await storage.syncIssues.put({ employeeId: 'I1', eventId: 'ev1', code: 'VANTAGEPOINT_REJECTED', message: 'again', at, requestId: 'r2' }); // same issue: one row
    await storage.syncIssues.put({ employeeId: 'I1', eventId: null, code: 'UNKNOWN_ACTIVITY_TYPE', message: 'm', at, requestId: 'r' });
    await storage.syncIssues.put({ employeeId: 'I3', eventId: 'ev9', code: 'EVENT_TIME_UNREADABLE', message: 'm', at, requestId: 'r' });
    expect((await storage.syncIssues.listForUser('I1')).map((i) => i.code).sort()).toEqual(['UNKNOWN_ACTIVITY_TYPE', 'VANTAGEPOINT_REJECTED']);
    expect(await storage.syncIssues.count()).toMatchObject({ issues: 3, users: 2 });
    // I2 lies between I1 and I3 in key order: counted as 0, and I3 is not asked for
    expect(await storage.syncIssues.countFor(['I1', 'I2'])).toEqual(new Map([['I1', 2]]));
    await storage.syncIssues.resolve('I1', 'ev1');
    await storage.syncIssues.resolve('I1', 'ev1'); // already resolved: fine
    expect((await storage.syncIssues.listForUser('I1')).map((i) => i.code)).toEqual(['UNKNOWN_ACTIVITY_TYPE']);
  });
});
