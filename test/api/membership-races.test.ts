import { withAdminStack, createGroup, employees, expectProblem, type Api, type GroupBody } from '../support/http';
import { eventually } from '../support/reconcile';

/**
 * Membership under concurrent admin requests, as a new user would meet it over HTTP
 * (issue 9's "done means"): a delete racing an add strands nobody, a move racing an add
 * and a remove never leaves a person in two groups, nor does an id differing only in case.
 * This file's stack is its own: it uses employees E0100–E0149.
 */

interface AddResult {
  results: Array<{ employeeId: string; outcome: string; otherGroupId?: string }>;
  added: number;
}

let admin: Api;
withAdminStack((_stack, client) => {
  admin = client;
});

const memberIds = async (groupId: string): Promise<string[]> => {
  const res = await admin.get<{ items: Array<{ employeeId: string }> }>(`groups/${groupId}/members?top=200`);
  return res.status === 200 ? res.body.items.map((m) => m.employeeId).sort() : [];
};

describe('deleting a group while members are being added', () => {
  it('leaves no member stranded: they can join another group at once, and a group re-created with the old id is empty', async () => {
    const people = employees(100, 139);
    for (let round = 0; round < 3; round++) {
      const doomed = await createGroup(admin, 'doomed');
      const [add, del] = await Promise.all([
        admin.post<AddResult>(`groups/${doomed.id}/members`, { employeeIds: people }),
        // a few ms in, so the delete lands while the add is writing (the interleaving varies per round)
        new Promise((resolve) => setTimeout(resolve, round * 15)).then(() => admin.del(`groups/${doomed.id}`)),
      ]);
      expect([200, 404]).toContain(add.status);
      expect(del.status).toBe(204);
      expect((await admin.get(`groups/${doomed.id}`)).status).toBe(404);

      // nobody is held by the deleted group: all 40 join another group (no 409), and answer for it
      const next = await createGroup(admin, 'next');
      const joined = await admin.post<AddResult>(`groups/${next.id}/members`, { employeeIds: people });
      expect(joined.status).toBe(200);
      expect(joined.body.results.filter((r) => r.outcome === 'conflict')).toEqual([]);
      expect((await admin.get<{ groupId: string }>(`users/${people[0]}/sync`)).body.groupId).toBe(next.id);

      // once the release job has finished, the old id can be used again and brings nobody back
      const again = await eventually('the old id is free again', async () => {
        const res = await admin.post<GroupBody>('groups', { id: doomed.id, name: `Again ${doomed.id}`, mailboxAccess: 'office365' });
        if (res.status === 409) {
          expectProblem(res, 409, 'GROUP_DELETING');
          return undefined;
        }
        return res;
      });
      expect(again.status).toBe(201);
      expect(again.body.memberCount).toBe(0);
      expect(await memberIds(doomed.id)).toEqual([]);

      // tidy for the next round: deleting `next` frees the 40 at once
      expect((await admin.del(`groups/${next.id}`)).status).toBe(204);
      expect((await admin.del(`groups/${doomed.id}`)).status).toBe(204);
    }
  });

  it('answers 404 to an add to a group being deleted', async () => {
    const group = await createGroup(admin, 'gone');
    expect((await admin.del(`groups/${group.id}`)).status).toBe(204);
    expectProblem(await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0140'] }), 404, 'GROUP_NOT_FOUND');
  });
});

describe('a concurrent move, add and remove', () => {
  it('never leaves a person in two groups', async () => {
    const people = employees(141, 145);
    for (let round = 0; round < 4; round++) {
      const [a, b, c] = [await createGroup(admin, 'a'), await createGroup(admin, 'b'), await createGroup(admin, 'c')];
      expect((await admin.post(`groups/${a.id}/members`, { employeeIds: people })).status).toBe(200);
      await Promise.all([
        admin.post(`groups/${b.id}/members`, { employeeIds: people, move: true }),
        admin.post(`groups/${c.id}/members`, { employeeIds: people }),
        ...people.map((id) => admin.del(`groups/${a.id}/members/${id}`)),
      ]);
      const lists = { [a.id]: await memberIds(a.id), [b.id]: await memberIds(b.id), [c.id]: await memberIds(c.id) };
      for (const id of people) {
        const holding = Object.entries(lists).filter(([, ids]) => ids.includes(id)).map(([g]) => g);
        const view = await admin.get<{ groupId: string | null }>(`users/${id}/sync`);
        const claimed = view.status === 200 ? view.body.groupId : null;
        // at most one group lists the person, and it is the group their view names
        expect({ id, holding }).toEqual({ id, holding: claimed ? [claimed] : [] });
      }
      for (const g of [a, b, c]) expect((await admin.del(`groups/${g.id}`)).status).toBe(204);
    }
  });
});

describe('ids that differ only in case', () => {
  it('are one person: e0146 in one group keeps E0146 out of another', async () => {
    const [a, b] = [await createGroup(admin, 'lower'), await createGroup(admin, 'upper')];
    const first = await admin.post<AddResult>(`groups/${a.id}/members`, { employeeIds: ['e0146'] });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([expect.objectContaining({ employeeId: 'E0146', outcome: 'added' })]);
    const second = await admin.post<AddResult>(`groups/${b.id}/members`, { employeeIds: ['E0146', 'e0146'] });
    expectProblem(second, 409, 'MEMBER_IN_OTHER_GROUP');
    expect(second.body.results).toEqual([expect.objectContaining({ employeeId: 'E0146', outcome: 'conflict', otherGroupId: a.id })]);
    expect((await admin.get<{ groupId: string }>('users/e0146/sync')).body.groupId).toBe(a.id);
    expect((await admin.del(`groups/${a.id}/members/e0146`)).status).toBe(204);
    expect(await memberIds(a.id)).toEqual([]);
  });
});

