/**
 * Issue 9's "done means": restarting Azurite under the running functions (as `npm start` runs
 * it: in memory, so it comes back empty) recovers without restarting them. While storage is
 * down, calls answer 503 with Retry-After; once it is back, tables and queues are recreated on
 * first use, a new group can be created and enabled, and the queue-triggered reconciler picks
 * the work up again, all in the same host process.
 */
import { api, createGroup, employee, expectProblem, type Api } from '../support/http';
import { eventually } from '../support/reconcile';
import { adminToken, startStack, type Stack } from '../support/stack';

const BEFORE = [150, 151].map(employee);
const AFTER = [152, 153].map(employee);

let stack: Stack;
let client: Api;

beforeAll(async () => {
  stack = await startStack();
  client = api(stack, await adminToken(stack));
});

afterAll(async () => {
  await stack?.stop();
});

async function enableAndSettle(c: Api, ids: string[], prefix: string): Promise<string> {
  const group = await createGroup(c, prefix);
  expect((await c.post(`groups/${group.id}/members`, { employeeIds: ids, move: true })).status).toBe(200);
  expect((await c.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
  await eventually(`${prefix}: every member active`, async () => {
    const res = await c.get<{ items: Array<{ status: string }> }>(`groups/${group.id}/members`);
    return res.status === 200 && res.body.items.length === ids.length && res.body.items.every((m) => m.status === 'active') ? true : undefined;
  });
  return group.id;
}

it('answers 503 with Retry-After while storage is down, and works again once it is back, without a host restart', async () => {
  await enableAndSettle(client, BEFORE, 'before');

  await stack.stopStorage();
  const down = await client.get('groups');
  expectProblem(down, 503);
  expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);

  await stack.startStorage();
  // The storage came back empty (in memory): the session store too, so sign in again.
  const again = api(stack, await adminToken(stack));
  const listed = await eventually('the groups list answers again', async () => {
    const res = await again.get<{ items: unknown[] }>('groups');
    return res.status === 200 ? res.body : undefined;
  });
  expect(listed.items).toEqual([]);
  // The queue-triggered reconciler runs again: a group enabled now settles.
  await enableAndSettle(again, AFTER, 'after');
  const status = await again.get<{ checks: Array<{ name: string; status: string }> }>('connect/status');
  expect(status.status).toBe(200);
});
