/**
 * The "Done means", as a new user would do it against the running stack:
 * put an address in the notification list, enable a group holding a member whose
 * mailbox access is forbidden; the member is suspended and the Graph emulator's
 * GET /emulator/mail shows one email to them and one to the address, with no repeat. Then
 * Graph refusing the sender shows on connect status and breaks nothing else.
 */
import { createGroup, withAdminStack, type Api } from '../support/http';
import { eventually } from '../support/reconcile';
import type { Stack } from '../support/stack';

interface SentMail {
  from: string;
  to: string[];
  subject: string;
  body: string;
  at: string;
}

let stack: Stack;
let admin: Api;

withAdminStack((started, client) => {
  stack = started;
  admin = client;
});

async function mail(): Promise<SentMail[]> {
  const res = await fetch(`${stack.graph.url}/emulator/mail`);
  return ((await res.json()) as { value: SentMail[] }).value;
}

it('emails the suspended member and the listed address once each', async () => {
  expect((await admin.put('connect/settings', { notificationEmails: ['connect-admins@contoso.test'] })).status).toBe(200);
  const group = await createGroup(admin, 'done');
  // E0227's mailbox (forbidden-chloe.jensen@contoso.test) is one the app may not read; E0010 is fine
  expect((await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0227', 'E0010'] })).status).toBe(200);
  expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);

  const sent = await eventually('two notification emails', async () => {
    const all = await mail();
    return all.length >= 2 ? all : undefined;
  });
  const member = await admin.get<{ status: string; reason: string }>('users/E0227/sync');
  expect(member.body).toMatchObject({ status: 'suspended', reason: 'MAILBOX_ACCESS_DENIED' });
  expect(sent.map((m) => [m.from, m.to])).toEqual(
    expect.arrayContaining([
      [stack.env.NOTIFICATION_SENDER, ['forbidden-chloe.jensen@contoso.test']],
      [stack.env.NOTIFICATION_SENDER, ['connect-admins@contoso.test']],
    ]),
  );
  expect(sent.find((m) => m.to[0] === 'connect-admins@contoso.test')?.body).toMatch(/Chloe Jensen \(E0227[\s\S]*POST \/api\/users\/E0227\/sync\/force/);

  // Another pass of the group (a member added nudges one) sees the same suspension: no repeat.
  expect((await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0011'] })).status).toBe(200);
  await eventually('E0011 active after the next pass', async () => {
    const res = await admin.get<{ status: string }>('users/E0011/sync');
    return res.body.status === 'active' ? true : undefined;
  });
  expect(await mail()).toHaveLength(2);

  const status = await admin.get<{ notifications: { ok: boolean; lastSentAt: string | null } }>('connect/status');
  expect(status.body.notifications).toMatchObject({ ok: true, lastSentAt: expect.any(String) });
});

it('shows Graph refusing the sender on connect status, and synchronization goes on', async () => {
  const faults = await fetch(`${stack.graph.url}/emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ forbiddenMailboxes: [stack.env.NOTIFICATION_SENDER] }),
  });
  expect(faults.status).toBe(200);
  const group = await createGroup(admin, 'refused');
  // E0228's mailbox is forbidden too: a suspension whose emails Graph now refuses
  expect((await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0228', 'E0012'] })).status).toBe(200);
  expect((await admin.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);

  const status = await eventually('connect status shows the refusal', async () => {
    const res = await admin.get<{ notifications: { ok: boolean; lastError: string | null } }>('connect/status');
    return res.body.notifications.ok ? undefined : res.body.notifications;
  });
  expect(status.lastError).toMatch(/403 ErrorAccessDenied/);
  expect((await admin.get<{ status: string }>('users/E0228/sync')).body).toMatchObject({ status: 'suspended' });
  expect((await admin.get<{ status: string }>('users/E0012/sync')).body).toMatchObject({ status: 'active' });
  expect((await admin.get<{ ok: boolean }>('health')).status).toBe(200);
  expect(await mail()).toHaveLength(2); // nothing went out, and the earlier emails were not sent again
});
