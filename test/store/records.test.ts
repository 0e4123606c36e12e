import { randomBytes } from 'node:crypto';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { newUserState } from '../../shared/operations/userSync';
import type { AuditEntry, Subscription, UserState } from '../../shared/domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../../shared/errors';

let storage: Storage;

beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  storage = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `rec${tag}`, queuePrefix: `rec${tag}-` });
  await storage.ensureReady();
});

describe('UserStateStore', () => {
  const state = (employeeId: string, extra: Partial<UserState> = {}): Omit<UserState, 'etag'> => ({
    ...newUserState(employeeId, new Date('2025-01-01T00:00:00.000Z')),
    ...extra,
  });

  it('creates with a null etag, refuses a second create, replaces with the current etag only', async () => {
    expect(await storage.userState.get('U1')).toBeNull();
    const created = await storage.userState.save(state('U1'), null);
    expect(await storage.userState.get('U1')).toEqual(created);
    await expect(storage.userState.save(state('U1'), null)).rejects.toBeInstanceOf(ConflictError);

    const updated = await storage.userState.save(state('U1', { userEnabled: false, suspendedReason: 'MAILBOX_NOT_FOUND', consecutiveFailures: 3 }), created.etag);
    await expect(storage.userState.save(state('U1'), created.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await storage.userState.get('U1')).toEqual(updated);
    expect(updated).toMatchObject({ userEnabled: false, suspendedReason: 'MAILBOX_NOT_FOUND', consecutiveFailures: 3 });
  });

  it('keeps only the last 5 errors', async () => {
    const lastErrors = Array.from({ length: 8 }, (_, i) => ({ at: `t${i}`, resource: 'events', code: `C${i}`, message: 'm' }));
    const saved = await storage.userState.save(state('U2', { lastErrors }), null);
    const read = await storage.userState.get('U2');
    expect(read?.lastErrors.map((e) => e.code)).toEqual(['C3', 'C4', 'C5', 'C6', 'C7']);
    expect(saved.lastErrors).toEqual(read?.lastErrors);
  });

  it('a save after a delete is stale; delete is idempotent', async () => {
    const created = await storage.userState.save(state('U3'), null);
    await storage.userState.delete('U3');
    await storage.userState.delete('U3');
    await expect(storage.userState.save(state('U3'), created.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
  });
});

describe('SubscriptionStore', () => {
  const sub = (employeeId: string, resource: Subscription['resource'], subscriptionId: string): Omit<Subscription, 'etag'> => ({
    employeeId,
    resource,
    subscriptionId,
    mailbox: `${employeeId.toLowerCase()}@contoso.test`,
    expiresAt: '2025-01-04T00:00:00.000Z',
    createdAt: '2025-01-01T00:00:00.000Z',
    lastRenewedAt: null,
    clientStateHash: 'hash-' + subscriptionId,
  });

  it('saves with etag semantics and finds by subscription id', async () => {
    const created = await storage.subscriptions.save(sub('S1', 'events', 'sub-1'), null);
    await expect(storage.subscriptions.save(sub('S1', 'events', 'sub-other'), null)).rejects.toBeInstanceOf(ConflictError);
    expect(await storage.subscriptions.findById('sub-other')).toBeNull();
    expect(await storage.subscriptions.findById('sub-1')).toEqual({ employeeId: 'S1', resource: 'events', clientStateHash: 'hash-sub-1' });

    const renewed = await storage.subscriptions.save({ ...sub('S1', 'events', 'sub-1'), lastRenewedAt: '2025-01-02T00:00:00.000Z' }, created.etag);
    await expect(storage.subscriptions.save(sub('S1', 'events', 'sub-1'), created.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await storage.subscriptions.listForUser('S1')).toEqual([renewed]);
  });

  it('moves the index when a subscription is recreated under a new id', async () => {
    const first = await storage.subscriptions.save(sub('S2', 'contacts', 'sub-2a'), null);
    await storage.subscriptions.save(sub('S2', 'contacts', 'sub-2b'), first.etag);
    expect(await storage.subscriptions.findById('sub-2a')).toBeNull();
    expect(await storage.subscriptions.findById('sub-2b')).toMatchObject({ employeeId: 'S2', resource: 'contacts' });
  });

  it('deletes with the etag, together with the index', async () => {
    const saved = await storage.subscriptions.save(sub('S3', 'messages', 'sub-3'), null);
    const renewed = await storage.subscriptions.save(sub('S3', 'messages', 'sub-3'), saved.etag);
    await expect(storage.subscriptions.delete('S3', 'messages', saved.etag)).rejects.toBeInstanceOf(PreconditionFailedError);
    await storage.subscriptions.delete('S3', 'messages', renewed.etag);
    expect(await storage.subscriptions.listForUser('S3')).toEqual([]);
    expect(await storage.subscriptions.findById('sub-3')).toBeNull();
    await expect(storage.subscriptions.delete('S3', 'messages', renewed.etag)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pages over distinct users that have subscriptions', async () => {
    const tag = randomBytes(4).toString('hex');
    const users = createStorage({ connectionString: process.env.TEST_STORAGE_CONNECTION as string }, { tablePrefix: `usr${tag}` });
    await users.ensureReady();
    for (let u = 0; u < 7; u++) {
      for (const resource of ['events', 'contacts', 'messages'] as const) await users.subscriptions.save(sub(`P${u}`, resource, `p${u}-${resource}`), null);
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await users.subscriptions.listUsers({ top: 3, continuationToken: token });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items);
      token = page.continuationToken ?? undefined;
    } while (token);
    expect(seen).toEqual(['P0', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6']);
  });
});

describe('AuditLog', () => {
  const entry = (i: number): AuditEntry => ({
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    by: 'admin',
    action: 'group.sync',
    target: 'g1',
    from: { sync: 'disabled', i },
    to: 'enabled',
    requestId: `r${i}`,
  });

  it('lists newest first across pages, from/to round-tripped', async () => {
    for (const i of [3, 0, 7, 1, 5, 2, 6, 4]) await storage.audit.append('group|g1', entry(i));
    await storage.audit.append('group|other', entry(9));
    const seen: AuditEntry[] = [];
    let token: string | undefined;
    do {
      const page = await storage.audit.list('group|g1', { top: 3, continuationToken: token });
      seen.push(...page.items);
      token = page.continuationToken ?? undefined;
    } while (token);
    expect(seen.map((e) => e.requestId)).toEqual(['r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    expect(seen[7]).toEqual(entry(0));
  });

  it('rejects an oversized entry before writing it', async () => {
    const huge = { ...entry(1), to: 'x'.repeat(40_000) };
    await expect(storage.audit.append('group|big', huge)).rejects.toBeInstanceOf(ValidationError);
    expect((await storage.audit.list('group|big', { top: 5 })).items).toEqual([]);
  });
});

describe('StatusSummaryStore', () => {
  it('round-trips the counts', async () => {
    expect(await storage.statusSummaries.get('grp')).toBeNull();
    const summary = { counts: { active: 3, pending: 1, with_issues: 0, suspended: 2, not_configured: 4, disabled: 0 }, computedAt: '2025-01-01T00:00:00.000Z', switchAt: '2024-12-31T00:00:00.000Z' };
    await storage.statusSummaries.put('grp', summary);
    expect(await storage.statusSummaries.get('grp')).toEqual(summary);
  });
});
