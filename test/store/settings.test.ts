import { randomBytes } from 'node:crypto';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { ConflictError, PreconditionFailedError } from '../../shared/errors';
import type { MailKey } from '../../shared/ports';

let storage: Storage;

beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  storage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `set${tag}`, queuePrefix: `set${tag}-` });
  await storage.ensureReady();
});

const settings = (emails: string[]) => ({ notificationEmails: emails, massRemovalGuard: { percent: 25, minimum: 5 }, updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'admin' });

describe('SettingsStore', () => {
  it('has nothing until saved, then creates once and replaces only under the current ETag', async () => {
    expect(await storage.settings.get()).toBeNull();
    const created = await storage.settings.save(settings(['a@contoso.test']), null);
    expect(await storage.settings.get()).toEqual(created);
    await expect(storage.settings.save(settings(['b@contoso.test']), null)).rejects.toBeInstanceOf(ConflictError);
    const replaced = await storage.settings.save(settings(['c@contoso.test']), created.etag);
    await expect(storage.settings.save(settings(['d@contoso.test']), created.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await storage.settings.get()).toEqual(replaced);
    expect(replaced).toMatchObject({ notificationEmails: ['c@contoso.test'], massRemovalGuard: { percent: 25, minimum: 5 } });
  });
});

describe('MailHealthStore', () => {
  it('keeps the last success and the last refusal', async () => {
    expect(await storage.mailHealth.get()).toEqual({ lastSentAt: null, lastErrorAt: null, lastError: null });
    await storage.mailHealth.recordSent('2026-01-01T00:00:00.000Z');
    await storage.mailHealth.recordFailure('2026-01-01T00:01:00.000Z', '403 ErrorAccessDenied');
    expect(await storage.mailHealth.get()).toEqual({ lastSentAt: '2026-01-01T00:00:00.000Z', lastErrorAt: '2026-01-01T00:01:00.000Z', lastError: '403 ErrorAccessDenied' });
  });
});

describe('MailLog', () => {
  const key = (recipient: string): MailKey => ({ recipient, cause: 'user_suspended', episode: `ep-${randomBytes(3).toString('hex')}` });
  const now = new Date('2026-01-01T00:00:00.000Z');
  const later = (ms: number) => new Date(now.getTime() + ms);

  it('lets one delivery claim an email; a second sees it busy, and sent once it is recorded', async () => {
    const k = key('odd/#?chars@contoso.test');
    expect(await storage.mailLog.claim(k, now, 60_000)).toBe('claimed');
    expect(await storage.mailLog.claim(k, later(1000), 60_000)).toBe('busy');
    await storage.mailLog.markSent(k, later(2000));
    expect(await storage.mailLog.claim(k, later(3000), 60_000)).toBe('sent');
    // the claim of another episode or recipient is its own
    expect(await storage.mailLog.claim({ ...k, episode: `${k.episode}x` }, now, 60_000)).toBe('claimed');
  });

  it('gives a released claim to the next delivery and takes over one whose delivery died', async () => {
    const k = key('ops@contoso.test');
    expect(await storage.mailLog.claim(k, now, 60_000)).toBe('claimed');
    await storage.mailLog.release(k);
    expect(await storage.mailLog.claim(k, now, 60_000)).toBe('claimed');
    expect(await storage.mailLog.claim(k, later(61_000), 60_000)).toBe('claimed');
    // a sent record is never released
    await storage.mailLog.markSent(k, later(62_000));
    await storage.mailLog.release(k);
    expect(await storage.mailLog.claim(k, later(200_000), 60_000)).toBe('sent');
  });

  it('lets exactly one of many concurrent deliveries claim an email', async () => {
    const k = key('race@contoso.test');
    const claims = await Promise.all(Array.from({ length: 8 }, () => storage.mailLog.claim(k, now, 60_000)));
    expect(claims.filter((c) => c === 'claimed')).toHaveLength(1);
  });
});

describe('the mass-removal hold and its confirmation', () => {
  it('keeps a hold with the status counts until a summary without one replaces it, and the confirmation beside it', async () => {
    const counts = { active: 30, pending: 0, with_issues: 0, suspended: 0, not_configured: 0, disabled: 0 };
    const hold = { heldAt: 't1', checkedAt: 't2', count: 25, activeMembers: 30, limit: 10, byReason: { NO_USER_RECORD: 25 }, cause: 'c', noticeQueued: true };
    await storage.statusSummaries.put('held', { counts, computedAt: 't0', switchAt: 's', hold });
    expect(await storage.statusSummaries.get('held')).toEqual({ counts, computedAt: 't0', switchAt: 's', hold });
    await storage.statusSummaries.put('held', { counts, computedAt: 't3', switchAt: 's' });
    expect((await storage.statusSummaries.get('held'))?.hold).toBeUndefined();

    expect(await storage.removalConfirmations.get('held')).toBeNull();
    await storage.removalConfirmations.put('held', { heldAt: 't1', count: 25, by: 'admin', at: 't4' });
    expect(await storage.removalConfirmations.get('held')).toEqual({ heldAt: 't1', count: 25, by: 'admin', at: 't4' });
    // a confirmation kept before counts were
    await storage.removalConfirmations.put('held', { heldAt: 't1', count: null, by: 'admin', at: 't5' });
    expect(await storage.removalConfirmations.get('held')).toEqual({ heldAt: 't1', count: null, by: 'admin', at: 't5' });
    // not a member row: listings of the group never see it
    expect((await storage.members.list('held', { top: 10 })).items).toEqual([]);
  });
});

describe('IncidentStore', () => {
  it('holds an incident while it lasts', async () => {
    expect(await storage.incidents.get('vantagepoint-credential')).toBeNull();
    await storage.incidents.put('vantagepoint-credential', { since: 't1', detail: 'invalid_client', noticeQueued: false });
    await storage.incidents.put('vantagepoint-credential', { since: 't1', detail: 'invalid_client', noticeQueued: true });
    expect(await storage.incidents.get('vantagepoint-credential')).toEqual({ since: 't1', detail: 'invalid_client', noticeQueued: true });
    await storage.incidents.clear('vantagepoint-credential');
    await storage.incidents.clear('vantagepoint-credential');
    expect(await storage.incidents.get('vantagepoint-credential')).toBeNull();
  });
});
