/**
 * The second "Done means", black box over the running stack: when Vantagepoint suddenly
 * reports most of a group's members as gone, the group is held, the administrators are emailed
 * (GET /emulator/mail), and no subscription is deleted until someone confirms
 * (POST /api/groups/{groupId}/sync/confirm-removals, audited); then the removals go ahead.
 */
import defaultSeed from '../../dev/emulators/vantagepoint/seed.json';
import { createStorage } from '../../shared/adapters/tables';
import { createGroup, employees, withAdminStack, type Api, type GroupBody } from '../support/http';
import { eventually } from '../support/reconcile';
import type { Stack } from '../support/stack';

const MEMBERS = employees(100, 111); // 12 members
const GONE = employees(100, 110); // 11 of them (more than the limit of 10) become inactive users
const usernameOf = (id: string) => defaultSeed.users.find((u) => u.Employee === id)?.Username ?? id;

interface Held extends GroupBody {
  hold: { status: 'held'; count: number; activeMembers: number; limit: number; cause: string } | null;
}
interface SentMail {
  to: string[];
  subject: string;
  body: string;
}

let stack: Stack;
let admin: Api;

// Vantagepoint's user list is trusted for CALLER_CACHE_SECONDS: a second, so the change is seen at once.
withAdminStack(
  (started, client) => {
    stack = started;
    admin = client;
  },
  { CALLER_CACHE_SECONDS: '1' },
);

const mail = async (): Promise<SentMail[]> => ((await (await fetch(`${stack.graph.url}/emulator/mail`)).json()) as { value: SentMail[] }).value;
const mailboxOf = (id: string) => (defaultSeed.employees.find((e) => e.Employee === id)?.EMail ?? '').toLowerCase();
/** how many of these employees' mailboxes hold a subscription at the Graph emulator */
const subscribed = (ids: string[]) => {
  const mailboxes = new Set(stack.graph.subscriptions().map((s) => s.mailbox));
  return ids.filter((id) => mailboxes.has(mailboxOf(id))).length;
};
const statusOf = async (id: string) => (await admin.get<{ status: string }>(`users/${id}/sync`)).body.status;

it('holds the group, emails the list once, deletes nothing until an administrator confirms, then removes them', async () => {
  expect((await admin.put('connect/settings', { notificationEmails: ['connect-admins@contoso.test'] })).status).toBe(200);
  const group = await createGroup(admin, 'mass');
  expect((await admin.post(`groups/${group.id}/members`, { employeeIds: MEMBERS })).status).toBe(200);
  expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
  await eventually('every member active', async () => ((await Promise.all(MEMBERS.map(statusOf))).every((s) => s === 'active') ? true : undefined));
  expect(subscribed(MEMBERS)).toBe(MEMBERS.length);

  // An hour and more later, as far as the members' last check goes; meanwhile Vantagepoint marks 11 users inactive.
  const storage = createStorage({ connectionString: stack.env.AzureWebJobsStorage as string });
  const rows = (await storage.members.list(group.id, { top: 100 })).items;
  await storage.members.updatePrerequisites(group.id, rows.map((m) => ({ ...m, checkedAt: new Date(Date.now() - 2 * 3_600_000).toISOString() })));
  for (const id of GONE) stack.vantagepoint.updateUser(usernameOf(id), { Status: 'I' });
  await new Promise((resolve) => setTimeout(resolve, 1100)); // past the user list's cache, so the next pass asks again
  try {
    // any pass looks (here: the one a new member nudges)
    expect((await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0112'] })).status).toBe(200);
    const held = await eventually('the group held', async () => {
      const res = await admin.get<Held>(`groups/${group.id}`);
      return res.body.hold ? res.body : undefined;
    });
    expect(held.hold).toMatchObject({ status: 'held', count: 11, limit: 10, cause: expect.stringMatching(/11 of \d+ active members/) });
    const emailed = await eventually('the administrators emailed', async () => {
      const sent = (await mail()).filter((m) => m.subject.includes('held'));
      return sent.length > 0 ? sent : undefined;
    });
    expect(emailed).toEqual([expect.objectContaining({ to: ['connect-admins@contoso.test'], body: expect.stringMatching(/confirm-removals/) })]);
    expect(subscribed(MEMBERS)).toBe(MEMBERS.length); // nothing deleted
    for (const id of GONE) expect(await statusOf(id)).toBe('active');

    const confirmed = await admin.post<{ confirmed: { count: number } }>(`groups/${group.id}/sync/confirm-removals`, undefined, { headers: { 'if-match': held.etag } });
    expect(confirmed.status).toBe(202);
    expect(confirmed.body.confirmed.count).toBe(11);
    // the pass ends by writing the group's counts without the hold
    await eventually('the hold cleared by the pass the confirmation let go ahead', async () => ((await admin.get<Held>(`groups/${group.id}`)).body.hold === null ? true : undefined));
    for (const id of GONE) expect(await statusOf(id)).toBe('not_configured');
    expect(subscribed(GONE)).toBe(0);
    expect(subscribed(['E0111'])).toBe(1);
    const history = await admin.get<{ items: Array<{ action: string; by: string }> }>(`groups/${group.id}/history`);
    expect(history.body.items.find((e) => e.action === 'group.confirm_removals')?.by).toBe('admin');
    expect((await mail()).filter((m) => m.subject.includes('held'))).toHaveLength(1);
  } finally {
    for (const id of GONE) stack.vantagepoint.updateUser(usernameOf(id), { Status: 'A' });
  }
});
