/**
 * Black box, as a new user would try it with `npm start`: with the app's permission revoked at
 * the emulator (POST /emulator/faults), enabling a group suspends nobody and connect status names
 * the Graph problem; once the permission comes back every eligible member becomes active by
 * itself (the breaker's probe runs every 20 s). Then a group force clears a suspension.
 */
import { api, createGroup, employee, type Api, type GroupBody } from '../support/http';
import { eventually } from '../support/reconcile';
import { adminToken, startStack, type Stack } from '../support/stack';

const ELIGIBLE = [160, 161, 162].map(employee);
const REFUSED = employee(163);

interface MemberBody {
  employeeId: string;
  email: string;
  status: string;
  reason: string | null;
}
interface Check {
  code: string;
  ok: boolean;
  message: string;
  cause: string | null;
  since: string | null;
}

let stack: Stack;
let client: Api;
let group: GroupBody;

beforeAll(async () => {
  stack = await startStack();
  client = api(stack, await adminToken(stack));
  group = await createGroup(client, 'access');
  expect((await client.post(`groups/${group.id}/members`, { employeeIds: [...ELIGIBLE, REFUSED], move: true })).status).toBe(200);
});
afterAll(async () => {
  await stack?.stop();
});

async function faults(body: unknown): Promise<void> {
  const res = await fetch(`${stack.graph.url}/emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function members(): Promise<Map<string, MemberBody>> {
  const res = await client.get<{ items: MemberBody[] }>(`groups/${group.id}/members?top=100`);
  return new Map(res.body.items.map((m) => [m.employeeId, m]));
}

async function graphCheck(): Promise<Check | undefined> {
  const res = await client.get<{ checks: Check[] }>('connect/status');
  expect(res.status).toBe(200);
  return res.body.checks.find((c) => c.code === 'GRAPH_ACCESS');
}

/** Up to a minute: the breaker's probe runs 20 s after a failure. */
const withinAMinute = <T>(what: string, probe: () => Promise<T | undefined>) => eventually(what, probe, 600, 100);

describe('Graph access lost and recovered, end to end', () => {
  it('with the permission revoked, enabling suspends nobody and connect status names the problem; granted again, every eligible member becomes active', async () => {
    expect(await graphCheck()).toMatchObject({ ok: true });
    await faults({ appPermission: 'revoked' });
    expect((await client.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);

    const failing = await eventually('connect status shows GRAPH_ACCESS failing', async () => {
      const check = await graphCheck();
      return check && !check.ok ? check : undefined;
    });
    expect(failing).toMatchObject({ cause: 'PERMISSION', since: expect.any(String) });
    expect(failing.message).toMatch(/permission/i);
    for (const m of (await members()).values()) expect(m.status).not.toBe('suspended');

    await faults({ appPermission: 'granted' });
    await withinAMinute('every eligible member is active', async () => {
      const now = await members();
      return [...ELIGIBLE, REFUSED].every((id) => now.get(id)?.status === 'active') ? true : undefined;
    });
    expect(await graphCheck()).toMatchObject({ ok: true, cause: null });
  }, 90_000);

  it('POST /groups/{groupId}/sync/force clears the suspensions of the group, audited', async () => {
    const email = (await members()).get(REFUSED)?.email as string;
    // The member's subscriptions go and come back: the new creates meet the refusal.
    expect((await client.put(`users/${REFUSED}/sync`, { enabled: false })).status).toBe(200);
    const held = () => stack.graph.subscriptions().filter((s) => s.mailbox === email.toLowerCase()).length;
    await eventually('the user lets go of their subscriptions', () => Promise.resolve(held() === 0 ? true : undefined));
    await faults({ forbiddenMailboxes: [email] });
    expect((await client.put(`users/${REFUSED}/sync`, { enabled: true })).status).toBe(200);
    await eventually('the refused mailbox is suspended', async () => ((await members()).get(REFUSED)?.status === 'suspended' ? true : undefined));

    await faults({ forbiddenMailboxes: [] });
    const forced = await client.post<{ groupId: string; reconciliation: { requested: boolean } }>(`groups/${group.id}/sync/force`);
    expect(forced.status).toBe(202);
    expect(forced.body).toEqual({ groupId: group.id, reconciliation: { requested: true } });
    await eventually('the suspension is cleared and the member active', async () => ((await members()).get(REFUSED)?.status === 'active' ? true : undefined));
    const history = await client.get<{ items: Array<{ action: string }> }>(`groups/${group.id}/history`);
    expect(history.body.items.map((e) => e.action)).toContain('group.force');

    expect((await client.post(`groups/no-such-group/sync/force`)).status).toBe(404);
  });
});
