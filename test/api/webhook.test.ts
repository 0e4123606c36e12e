/**
 * Graph's webhook over HTTP against the development host, fed Microsoft's documented payloads
 * (test/fixtures/graph/notifications.ts) with only subscriptionId and clientState replaced:
 * the 202 follows one storage round trip, each item stands alone, the consumer of the persisted
 * deliveries hands syncing users' changes on to mail-changes, lifecycle events renew, resync, and
 * recreate before resyncing; a clientState signed with a retired key is refused; a delivery that
 * cannot be persisted gets 503 + Retry-After so Graph redelivers it.
 */
import fs from 'node:fs';
import type { EmulatedSubscription } from '../../dev/emulators/graph/server';
import { signClientState } from '../../shared/domain/clientState';
import type { MailResource } from '../../shared/domain/model';
import type { UserSyncView } from '../../shared/operations/userSync';
import {
  LIFECYCLE_MISSED_SAMPLE,
  LIFECYCLE_REAUTHORIZATION_REQUIRED_SAMPLE,
  LIFECYCLE_SUBSCRIPTION_REMOVED_SAMPLE,
  OUTLOOK_BASIC_NOTIFICATION_SAMPLE,
  WEBHOOK_DELIVERY_SAMPLE,
  withValues,
} from '../fixtures/graph/notifications';
import { api, createGroup, employee, type Api, type GroupBody } from '../support/http';
import { changeQueueOf, eventually } from '../support/reconcile';
import { adminToken, startStack, type Stack } from '../support/stack';

const NEW_KEY = 'webhook-test-client-state-key-new-0123456789';
const OLD_KEY = 'webhook-test-client-state-key-old-0123456789';
const RETIRED_KEY = 'webhook-test-client-state-key-retired-012345';
const [A, B] = [employee(160), employee(161)] as [string, string];

let stack: Stack;
let client: Api;
let group: GroupBody;
let changes: ReturnType<typeof changeQueueOf>;
const mailboxes = new Map<string, string>();

beforeAll(async () => {
  // This file reads mail-changes itself: the data-sync consumer is switched off the platform's way.
  // The service signs with the new key and still accepts the old one (a rotation in progress).
  stack = await startStack({ 'AzureWebJobs.data-sync.Disabled': 'true', CLIENT_STATE_KEYS: `${NEW_KEY},${OLD_KEY}` });
  client = api(stack, await adminToken(stack));
  changes = changeQueueOf(stack.env.AzureWebJobsStorage as string);
  group = await createGroup(client, 'webhook');
  expect((await client.post(`groups/${group.id}/members`, { employeeIds: [A, B] })).status).toBe(200);
  expect((await client.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
  for (const id of [A, B]) {
    const view = await eventually(`${id} active`, async () => {
      const v = await why(id);
      return v.status === 'active' && v.subscriptions.length === 3 ? v : undefined;
    });
    const members = await client.get<{ items: Array<{ employeeId: string; email: string }> }>(`groups/${group.id}/members`);
    mailboxes.set(id, (members.body.items.find((m) => m.employeeId === id)?.email ?? '').toLowerCase());
    expect(view.subscriptions).toHaveLength(3);
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function why(employeeId: string): Promise<UserSyncView> {
  return (await client.get<UserSyncView>(`users/${employeeId}/sync`)).body;
}

function subscriptionOf(employeeId: string, resource: MailResource): EmulatedSubscription {
  const sub = stack.graph.subscriptions().find((s) => s.mailbox === mailboxes.get(employeeId) && s.resource.endsWith(`/${resource}`));
  if (!sub) throw new Error(`no live ${resource} subscription for ${employeeId}`);
  return sub;
}

async function post(body: unknown): Promise<Response> {
  return fetch(`${stack.baseUrl}/notifications/graph`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function hostLog(): string {
  return fs.readFileSync(stack.logFile, 'utf8');
}

/** Log lines of one event, parsed, newest last. */
function logLines(event: string): Array<Record<string, unknown>> {
  return hostLog()
    .split('\n')
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
}

/** What mail-changes received until `done` says enough (the consumer runs on its own queue trigger). */
async function handedOn(what: string, done: (all: Awaited<ReturnType<typeof changes.drain>>) => boolean) {
  const all: Awaited<ReturnType<typeof changes.drain>> = [];
  return eventually(what, async () => {
    all.push(...(await changes.drain()));
    return done(all) ? all : undefined;
  });
}

/** Waits until the consumer has processed `count` more delivery messages than `before`. */
async function consumed(before: number, count = 1): Promise<Array<Record<string, unknown>>> {
  return eventually('the delivery is consumed', () => {
    const lines = logLines('notifications.consumed');
    return Promise.resolve(lines.length >= before + count ? lines.slice(before) : undefined);
  });
}

describe('the webhook and Microsoft documented payloads', () => {
  it('accepts the webhook delivery sample (202) and hands the change on in its documented shape', async () => {
    await changes.drain();
    const sub = subscriptionOf(A, 'messages');
    const res = await post(withValues(WEBHOOK_DELIVERY_SAMPLE, { subscriptionId: sub.id, clientState: sub.clientState as string }));
    expect(res.status).toBe(202);
    const [change] = await handedOn('the change reaches mail-changes', (all) => all.length >= 1);
    expect(change).toMatchObject({
      schema: 'connect-sync.change/1',
      kind: 'change',
      employeeId: A,
      groupId: group.id,
      resource: 'messages',
      subscriptionId: sub.id,
      changeType: 'created',
      resourcePath: 'users/{user_guid}@{tenant_guid}/messages/{long_id_string}',
      resourceId: '{long_id_string}',
      tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
    });
    expect(JSON.stringify(change)).not.toContain(sub.clientState as string);
  });

  it('accepts the Outlook basic notification sample and hands it on', async () => {
    await changes.drain();
    const sub = subscriptionOf(A, 'events');
    expect((await post(withValues(OUTLOOK_BASIC_NOTIFICATION_SAMPLE, { subscriptionId: sub.id, clientState: sub.clientState as string }))).status).toBe(202);
    const [change] = await handedOn('the change reaches mail-changes', (all) => all.length >= 1);
    expect(change).toMatchObject({ kind: 'change', employeeId: A, resource: 'events', subscriptionId: sub.id, changeType: 'created', resourceId: 'AAMkAGUwNjQ4ZjIxAAA=' });
  });

  it('isolates items: one delivery with a malformed, a forged and an unsigned item answers 202 and hands the good one on', async () => {
    await changes.drain();
    const good = subscriptionOf(A, 'contacts');
    const other = subscriptionOf(B, 'contacts');
    const intakeBefore = logLines('notifications.intake').length;
    const [item] = withValues(OUTLOOK_BASIC_NOTIFICATION_SAMPLE, { subscriptionId: good.id, clientState: good.clientState as string }).value;
    const res = await post({
      value: [
        { subscriptionId: 42, changeType: 'updated' },
        { ...item, subscriptionId: other.id, clientState: signClientState([RETIRED_KEY], { employeeId: B, resource: 'contacts' }) },
        { ...item, subscriptionId: other.id, clientState: undefined },
        item,
      ],
    });
    expect(res.status).toBe(202);
    const all = await handedOn('the good item reaches mail-changes', (got) => got.length >= 1);
    expect(all).toEqual([expect.objectContaining({ employeeId: A, resource: 'contacts', subscriptionId: good.id })]);
    expect(logLines('notifications.intake').slice(intakeBefore)).toEqual([expect.objectContaining({ items: 4, persisted: 1, malformed: 1, bad_client_state: 2, messages: 1 })]);
  });

  it('accepts a clientState signed with the old key while the old key is listed (rotation)', async () => {
    await changes.drain();
    const sub = subscriptionOf(B, 'events');
    const old = signClientState([OLD_KEY], { employeeId: B, resource: 'events' });
    expect(old).not.toBe(sub.clientState);
    expect((await post(withValues(OUTLOOK_BASIC_NOTIFICATION_SAMPLE, { subscriptionId: sub.id, clientState: old }))).status).toBe(202);
    const [change] = await handedOn('the change reaches mail-changes', (all) => all.length >= 1);
    expect(change).toMatchObject({ employeeId: B, resource: 'events', subscriptionId: sub.id });
  });

  it('signs new subscriptions with the first key', () => {
    expect(subscriptionOf(A, 'events').clientState).toBe(signClientState([NEW_KEY], { employeeId: A, resource: 'events' }));
  });
});

describe('lifecycle samples, processed off the request path', () => {
  it('reauthorizationRequired renews the subscription: same id, later expiry', async () => {
    const before = subscriptionOf(B, 'messages');
    expect((await post(withValues(LIFECYCLE_REAUTHORIZATION_REQUIRED_SAMPLE, { subscriptionId: before.id, clientState: before.clientState as string }))).status).toBe(202);
    const after = await eventually('the subscription is renewed', () => {
      const now = subscriptionOf(B, 'messages');
      return Promise.resolve(Date.parse(now.expirationDateTime) > Date.parse(before.expirationDateTime) ? now : undefined);
    });
    expect(after.id).toBe(before.id);
  });

  it('missed asks the data sync for a resync of that resource and leaves the subscriptions alone', async () => {
    await changes.drain();
    const sub = subscriptionOf(B, 'contacts');
    const live = stack.graph.subscriptions().map((s) => s.id).sort();
    expect((await post(withValues(LIFECYCLE_MISSED_SAMPLE, { subscriptionId: sub.id, clientState: sub.clientState as string }))).status).toBe(202);
    const [resync] = await handedOn('the resync reaches mail-changes', (all) => all.length >= 1);
    expect(resync).toMatchObject({ kind: 'resync', employeeId: B, groupId: group.id, resource: 'contacts', subscriptionId: sub.id, changeType: null, resourceId: null });
    expect(stack.graph.subscriptions().map((s) => s.id).sort()).toEqual(live);
  });

  it('subscriptionRemoved: recreates first, and asks for the resync only once the new subscription exists', async () => {
    await changes.drain();
    const removed = subscriptionOf(A, 'events');
    // Graph removed it; while the recreate is refused (the mailbox answers 403) no resync may be asked for.
    expect(stack.graph.removeSubscription(removed.id)).toBe(true);
    stack.graph.setFaults({ forbiddenMailboxes: [mailboxes.get(A) as string] });
    expect((await post(withValues(LIFECYCLE_SUBSCRIPTION_REMOVED_SAMPLE, { subscriptionId: removed.id, clientState: removed.clientState as string }))).status).toBe(202);
    await eventually('the recreate is tried and refused', async () => ((await why(A)).lastErrors.some((e) => e.code === 'ErrorAccessDenied') ? true : undefined));
    expect((await changes.drain()).filter((m) => m.employeeId === A && m.kind === 'resync')).toEqual([]);

    // The mailbox is readable again: a force runs the user now; the recreate succeeds, then the resync follows.
    stack.graph.setFaults({ forbiddenMailboxes: [] });
    expect((await client.post(`users/${A}/sync/force`)).status).toBe(202);
    const all = await handedOn('the resync reaches mail-changes', (got) => got.some((m) => m.employeeId === A && m.kind === 'resync'));
    const resync = all.find((m) => m.employeeId === A && m.kind === 'resync');
    const recreated = subscriptionOf(A, 'events');
    expect(recreated.id).not.toBe(removed.id);
    // The resync names the new subscription: it was asked for after the create that produced that id.
    expect(resync).toMatchObject({ resource: 'events', subscriptionId: recreated.id });
  }, 60_000);
});

describe('stopping is immediate', () => {
  it('never hands on a notification for a user who stopped syncing', async () => {
    const sub = subscriptionOf(B, 'events');
    // Graph refuses the app while this holds, so the disable cannot delete the subscription: it stays
    // ours and live, and only the syncing check can keep the notification back.
    stack.graph.setFaults({ appPermission: 'revoked' });
    expect((await client.put(`groups/${group.id}/sync`, { enabled: false })).status).toBe(200);
    await changes.drain();
    const before = logLines('notifications.consumed').length;
    expect((await post(withValues(OUTLOOK_BASIC_NOTIFICATION_SAMPLE, { subscriptionId: sub.id, clientState: sub.clientState as string }))).status).toBe(202);
    const [line] = await consumed(before);
    expect(line).toMatchObject({ dropped_not_syncing: 1, handed_on: 0 });
    expect(await changes.drain()).toEqual([]);
  });
});

describe('a delivery that cannot be persisted', () => {
  it('answers 503 with Retry-After, so Graph redelivers it', async () => {
    const sub = subscriptionOf(A, 'messages');
    await stack.stopStorage();
    const res = await post(withValues(OUTLOOK_BASIC_NOTIFICATION_SAMPLE, { subscriptionId: sub.id, clientState: sub.clientState as string }));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }, 30_000);
});

describe('a retired clientState key', () => {
  let rotated: Stack;

  beforeAll(async () => {
    // The rotation finished: only the new key is listed.
    rotated = await startStack({ CLIENT_STATE_KEYS: NEW_KEY });
  }, 60_000);

  afterAll(async () => {
    await rotated?.stop();
  });

  it('is refused once removed from the list: 202 for Graph, nothing persisted', async () => {
    const old = signClientState([OLD_KEY], { employeeId: A, resource: 'events' });
    const res = await fetch(`${rotated.baseUrl}/notifications/graph`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(withValues(OUTLOOK_BASIC_NOTIFICATION_SAMPLE, { subscriptionId: 'c6126aa3-0ed8-412f-a988-71e6cee627c4', clientState: old })),
    });
    expect(res.status).toBe(202);
    const line = await eventually('the intake tally is logged', () =>
      Promise.resolve(
        fs
          .readFileSync(rotated.logFile, 'utf8')
          .split('\n')
          .find((l) => l.includes('"notifications.intake"')),
      ),
    );
    expect(line).toContain('"bad_client_state":1');
    expect(line).toContain('"persisted":0');
    expect(line).toContain('"messages":0');
  });
});
