import { AppError } from '../../shared/errors';
import { createGroup, deleteGroup } from '../../shared/operations/groups';
import { handleReconcileRequest } from '../../shared/operations/reconcile';
import type { Member } from '../../shared/domain/model';
import { mailboxOf, startHarness, type Harness } from '../support/reconcile';

/**
 * A group re-created with the id of a deleted one starts empty, even when an add to the old
 * group was still writing after the release job had passed (the race the HTTP test in
 * test/api/membership-races.test.ts meets under load). The late rows are written here as that
 * add writes them, after the release job finished, so the order is certain.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const PEOPLE = ['E0301', 'E0302'];

async function runQueuedReleases(): Promise<number> {
  const requests = (await h.takeReconcileRequests()).filter((r) => r.releaseGroupId);
  for (const request of requests) await handleReconcileRequest(h.deps, request, h.options());
  return requests.length;
}

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work;
    return null;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

it('refuses the old id while rows a late add wrote remain, queues their release, then creates the group empty', async () => {
  const old = await h.addGroup('disabled', PEOPLE.map((employeeId) => ({ employeeId })));
  await deleteGroup(h.deps, { groupId: old.id, ifMatch: null }, h.context());
  expect(await runQueuedReleases()).toBe(1);
  expect(await h.storage.groups.getDeleting(old.id)).toBeNull(); // the id is free: the release job finished

  // the add that read the group before the delete writes its rows now
  const at = h.clock.now().toISOString();
  const late: Member[] = PEOPLE.map((employeeId) => ({
    groupId: old.id,
    employeeId,
    name: employeeId,
    email: mailboxOf(employeeId),
    prerequisite: null,
    prerequisiteMessage: '',
    checkedAt: at,
    addedAt: at,
    addedBy: 'late-add',
  }));
  await h.storage.members.add(old.id, late, { move: false });

  const body = { id: old.id, name: `Again ${old.id}`, mailboxAccess: 'office365' as const };
  expect(await codeOf(createGroup(h.deps, body, h.context()))).toBe('GROUP_DELETING');
  expect(await h.storage.groups.get(old.id)).toBeNull();
  // the refusal queued the release of what was left, so a retry succeeds once it has run
  expect(await runQueuedReleases()).toBe(1);

  const again = await createGroup(h.deps, body, h.context());
  expect(again.memberCount).toBe(0);
  expect((await h.storage.members.list(old.id, { top: 50 })).items).toEqual([]);
});
