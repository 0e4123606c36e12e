/**
 * Black box, end to end: the compiled functions under the development host, Azurite, both
 * emulators. Enabling a group makes its eligible members active with Graph subscriptions;
 * notifications are authenticated, queued for the data-sync consumer, or dropped at once when
 * the group stops; lifecycle events renew, recreate and resync; force lifts a suspension.
 * The tests run in order on one group (one stack keeps the file quick).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { EmulatedSubscription, LifecycleEvent } from '../../dev/emulators/graph/server';
import type { ChangeMessage } from '../../shared/api/notifications';
import type { UserSyncView } from '../../shared/operations/userSync';
import { api, createGroup, employee, type Api, type GroupBody } from '../support/http';
import { changeQueueOf, eventually } from '../support/reconcile';
import { adminToken, startStack, type Stack } from '../support/stack';

const ELIGIBLE = [150, 151, 152, 153].map(employee);
/** eligible in Vantagepoint, but the emulator is told to refuse its mailbox until the force test */
const REFUSED = employee(154);
const NO_USER_RECORD = employee(201);
const MISSING = employee(221);
const FORBIDDEN = employee(226);
const ALL = [...ELIGIBLE, REFUSED, NO_USER_RECORD, MISSING, FORBIDDEN];
const RESOURCES = ['contacts', 'events', 'messages'];

interface MemberBody {
  employeeId: string;
  email: string;
  status: string;
  reason: string | null;
  message: string;
}

let stack: Stack;
let client: Api;
let group: GroupBody;
let changes: ReturnType<typeof changeQueueOf>;
const emails = new Map<string, string>();
/** every clientState the emulator was given, to prove none ever reaches a log or a queue message */
const clientStates = new Set<string>();

beforeAll(async () => {
  // This file reads mail-changes itself, so the data-sync consumer is switched off the platform's
  // way (test/e2e/datasync.test.ts covers the consumer).
  stack = await startStack({ 'AzureWebJobs.data-sync.Disabled': 'true' });
  client = api(stack, await adminToken(stack));
  changes = changeQueueOf(stack.env.AzureWebJobsStorage as string);
  group = await createGroup(client, 'e2e');
  const added = await client.post<{ added: number }>(`groups/${group.id}/members`, { employeeIds: ALL, move: true });
  expect(added.status).toBe(200);
  for (const m of await members()) emails.set(m.employeeId, m.email.toLowerCase());
});

afterAll(async () => {
  await stack?.stop();
});

async function members(): Promise<MemberBody[]> {
  const res = await client.get<{ items: MemberBody[] }>(`groups/${group.id}/members?top=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

async function why(employeeId: string): Promise<UserSyncView> {
  const res = await client.get<UserSyncView>(`users/${employeeId}/sync`);
  expect(res.status).toBe(200);
  return res.body;
}

/** The emulator's live subscriptions for one member's mailbox. */
function liveFor(employeeId: string): EmulatedSubscription[] {
  const live = stack.graph.subscriptions().filter((s) => s.mailbox === emails.get(employeeId));
  for (const s of live) if (s.clientState) clientStates.add(s.clientState);
  return live;
}

const resourceOf = (s: EmulatedSubscription): string => s.resource.split('/').pop() ?? '';
const subscriptionFor = (employeeId: string, resource: string): EmulatedSubscription | undefined => liveFor(employeeId).find((s) => resourceOf(s) === resource);

/** POST to an emulator control route, as a test or benchmark would. */
async function emulator(path: string, body: unknown): Promise<{ status: number; body: { status?: number } }> {
  const res = await fetch(`${stack.graph.url}/emulator/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { status?: number } };
}

/** Graph delivers through the emulator; the answer relays our endpoint's status. */
async function deliver(kind: 'notify' | 'lifecycle', subscriptionId: string, event?: LifecycleEvent): Promise<number | undefined> {
  const res = await emulator(kind, kind === 'notify' ? { subscriptionId } : { subscriptionId, event });
  expect(res.status).toBe(200);
  return res.body.status;
}

async function postNotifications(value: unknown[]): Promise<Response> {
  return fetch(`${stack.baseUrl}/notifications/graph`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
}

function hostLog(): string {
  return fs.readFileSync(stack.logFile, 'utf8');
}

/** mail-changes as the deliveries' consumer fills it (its own queue trigger): drained until `done`. */
async function drainUntil(what: string, done: (all: ChangeMessage[]) => boolean): Promise<ChangeMessage[]> {
  const all: ChangeMessage[] = [];
  return eventually(what, async () => {
    all.push(...(await changes.drain()));
    return done(all) ? all : undefined;
  });
}

/** The consumer's tally lines (`notifications.consumed`) so far. */
function consumedLines(): string[] {
  return hostLog()
    .split('\n')
    .filter((l) => l.includes('"notifications.consumed"'));
}

/** Waits for the consumer to have processed one more delivery message than `before`; its tally line. */
async function nextConsumed(before: number): Promise<string> {
  return eventually('the delivery is consumed', () => Promise.resolve(consumedLines()[before]));
}

describe('end to end: enabling a group', () => {
  it('makes every eligible member active with one subscription per resource in the emulator, and explains the rest', async () => {
    stack.graph.setFaults({ forbiddenMailboxes: [emails.get(REFUSED) as string] });
    const toggled = await client.put<{ group: GroupBody; reconciliation: { requested: boolean } }>(`groups/${group.id}/sync`, { enabled: true });
    expect(toggled.status).toBe(200);
    expect(toggled.body.reconciliation.requested).toBe(true);

    const settled = await eventually('every member settles', async () => {
      const list = await members();
      return list.some((m) => m.status === 'pending' || m.status === 'with_issues') ? undefined : list;
    });
    const byId = new Map(settled.map((m) => [m.employeeId, m]));
    for (const id of ELIGIBLE) expect(byId.get(id)).toMatchObject({ status: 'active', reason: null });
    expect(byId.get(NO_USER_RECORD)).toMatchObject({ status: 'not_configured', reason: 'NO_USER_RECORD' });
    expect(byId.get(MISSING)).toMatchObject({ status: 'suspended', reason: 'MAILBOX_NOT_FOUND' });
    expect(byId.get(FORBIDDEN)).toMatchObject({ status: 'suspended', reason: 'MAILBOX_ACCESS_DENIED' });
    expect(byId.get(REFUSED)).toMatchObject({ status: 'suspended', reason: 'MAILBOX_ACCESS_DENIED' });

    for (const id of ELIGIBLE) {
      const live = liveFor(id);
      expect(live.map(resourceOf).sort()).toEqual(RESOURCES);
      expect(live.every((s) => s.notificationUrl === `${stack.baseUrl}/notifications/graph`)).toBe(true);
      // what the why view lists is exactly what the provider holds
      expect((await why(id)).subscriptions.map((s) => s.id).sort()).toEqual(live.map((s) => s.id).sort());
    }
    for (const id of [REFUSED, NO_USER_RECORD, MISSING, FORBIDDEN]) expect(liveFor(id)).toEqual([]);

    const counts = await eventually('the group counts follow the pass', async () => {
      const res = await client.get<GroupBody>(`groups/${group.id}`);
      return res.body.counts.active === ELIGIBLE.length ? res.body.counts : undefined;
    });
    expect(counts).toMatchObject({ active: 4, suspended: 3, not_configured: 1, pending: 0, with_issues: 0, disabled: 0 });
  });

  it('explains a missing or forbidden mailbox in the why view, steps in order', async () => {
    const missing = await why(MISSING);
    expect(missing).toMatchObject({ status: 'suspended', reason: 'MAILBOX_NOT_FOUND', subscriptions: [], nextRetryAt: null });
    expect(missing.message).toMatch(/no mailbox/i);
    expect(missing.steps.map((s) => [s.name, s.ok])).toEqual([
      ['membership', true],
      ['group switch', true],
      ['user switch', true],
      ['member prerequisites', true],
      ['suspension', false],
    ]);
    expect(missing.lastErrors.at(-1)).toMatchObject({ code: 'MailboxNotEnabledForRESTAPI' });

    const forbidden = await why(FORBIDDEN);
    expect(forbidden).toMatchObject({ status: 'suspended', reason: 'MAILBOX_ACCESS_DENIED' });
    expect(forbidden.message).toMatch(/not allowed to read this mailbox/i);
    expect(forbidden.lastErrors.at(-1)).toMatchObject({ code: 'ErrorAccessDenied' });
  });
});

describe('end to end: the notification endpoint', () => {
  it('answers the validation handshake with the decoded token as text/plain, and refuses an overlong one', async () => {
    const token = 'Validation: Testing client application reachability &+%/?#=';
    const res = await fetch(`${stack.baseUrl}/notifications/graph?validationToken=${encodeURIComponent(token)}`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(token);

    const long = await fetch(`${stack.baseUrl}/notifications/graph?validationToken=${'x'.repeat(1025)}`, { method: 'POST' });
    expect(long.status).toBe(400);
    expect(await long.text()).not.toContain('x'.repeat(100));
  });

  it('queues a change notification from the emulator for the data-sync consumer, without its clientState', async () => {
    await changes.drain();
    const sub = subscriptionFor(ELIGIBLE[0] as string, 'events') as EmulatedSubscription;
    expect(await deliver('notify', sub.id)).toBe(202);
    const queued = await drainUntil('the change reaches mail-changes', (all) => all.length >= 1);
    expect(queued).toEqual([
      expect.objectContaining({
        schema: 'connect-sync.change/1',
        kind: 'change',
        employeeId: ELIGIBLE[0],
        groupId: group.id,
        resource: 'events',
        subscriptionId: sub.id,
        changeType: 'updated',
        resourceId: expect.any(String),
      }),
    ]);
    expect(JSON.stringify(queued)).not.toContain(sub.clientState as string);
  });

  it('ignores a clientState mismatch and an unknown subscription id: 202, nothing queued', async () => {
    await changes.drain();
    const sub = subscriptionFor(ELIGIBLE[1] as string, 'contacts') as EmulatedSubscription;
    const before = consumedLines().length;
    const res = await postNotifications([
      { subscriptionId: sub.id, clientState: `${sub.clientState ?? ''}x`, changeType: 'updated', resource: sub.resource },
      { subscriptionId: sub.id, changeType: 'updated', resource: sub.resource },
      { subscriptionId: randomUUID(), clientState: sub.clientState, changeType: 'updated', resource: sub.resource },
    ]);
    expect(res.status).toBe(202);
    // The intake refuses the forged and the unsigned item at once (no read); the consumer finds the third
    // one's subscription id unknown, so nothing reaches mail-changes.
    const intake = await eventually('the intake tally is logged', () =>
      Promise.resolve(hostLog().split('\n').find((l) => l.includes('"notifications.intake"') && l.includes('"bad_client_state":2'))),
    );
    expect(intake).toContain('"persisted":1');
    const consumed = await nextConsumed(before);
    expect(consumed).toContain('"unknown_subscription":1');
    expect(consumed).toContain('"handed_on":0');
    expect(await changes.drain()).toEqual([]);
  });
});

describe('end to end: lifecycle events', () => {
  it('reauthorizationRequired renews the subscription: same id, expiry later', async () => {
    const [id] = ELIGIBLE as [string];
    const before = subscriptionFor(id, 'events') as EmulatedSubscription;
    expect(await deliver('lifecycle', before.id, 'reauthorizationRequired')).toBe(202);
    const after = await eventually('the subscription is renewed', () => {
      const now = subscriptionFor(id, 'events');
      return Promise.resolve(now && Date.parse(now.expirationDateTime) > Date.parse(before.expirationDateTime) ? now : undefined);
    });
    expect(after.id).toBe(before.id);
    const view = await eventually('the renewal is recorded', async () => {
      const v = await why(id);
      return v.subscriptions.find((s) => s.id === before.id)?.lastRenewedAt ? v : undefined;
    });
    expect(view.subscriptions.find((s) => s.id === before.id)?.expiresAt).toBe(after.expirationDateTime);
  });

  it('subscriptionRemoved recreates the subscription with a new id, then requests a resync naming it', async () => {
    const id = ELIGIBLE[1] as string;
    const removed = subscriptionFor(id, 'contacts') as EmulatedSubscription;
    await changes.drain();
    expect(await deliver('lifecycle', removed.id, 'subscriptionRemoved')).toBe(202);
    const recreated = await eventually('the subscription is recreated', () => {
      const now = subscriptionFor(id, 'contacts');
      return Promise.resolve(now && now.id !== removed.id ? now : undefined);
    });
    const resyncs = await drainUntil('the resync reaches mail-changes', (all) => all.some((m) => m.kind === 'resync'));
    // Recreate first, then resync: the resync names the new subscription, so it was asked for after the create.
    expect(resyncs).toEqual([expect.objectContaining({ kind: 'resync', employeeId: id, resource: 'contacts', subscriptionId: recreated.id })]);
    const view = await eventually('our table follows', async () => {
      const v = await why(id);
      return v.subscriptions.some((s) => s.id === recreated.id) ? v : undefined;
    });
    expect(view.status).toBe('active');
    expect(view.subscriptions.map((s) => s.id)).not.toContain(removed.id);
    expect(liveFor(id).map(resourceOf).sort()).toEqual(RESOURCES);
  });

  it('missed puts a resync message on the change queue and leaves the subscriptions alone', async () => {
    const id = ELIGIBLE[2] as string;
    const sub = subscriptionFor(id, 'messages') as EmulatedSubscription;
    const before = liveFor(id).map((s) => s.id).sort();
    await changes.drain();
    expect(await deliver('lifecycle', sub.id, 'missed')).toBe(202);
    expect(await drainUntil('the resync reaches mail-changes', (all) => all.length >= 1)).toEqual([
      expect.objectContaining({ schema: 'connect-sync.change/1', kind: 'resync', employeeId: id, groupId: group.id, resource: 'messages', subscriptionId: sub.id }),
    ]);
    expect(liveFor(id).map((s) => s.id).sort()).toEqual(before);
  });
});

describe('end to end: force and disable', () => {
  it('force clears a suspension and reconciles the user now', async () => {
    stack.graph.setFaults({ forbiddenMailboxes: [] });
    const forced = await client.post<UserSyncView>(`users/${REFUSED}/sync/force`);
    expect(forced.status).toBe(202);
    expect(forced.body.status).not.toBe('suspended');
    const view = await eventually('the user becomes active', async () => {
      const v = await why(REFUSED);
      return v.status === 'active' ? v : undefined;
    });
    expect(view.reason).toBeNull();
    expect(liveFor(REFUSED).map(resourceOf).sort()).toEqual(RESOURCES);
  });

  it('disable drops notifications at once, and the next run deletes the subscriptions', async () => {
    const active = [...ELIGIBLE, REFUSED];
    const sub = subscriptionFor(active[0] as string, 'events') as EmulatedSubscription;
    // Deletes fail while this holds, so the subscriptions are certainly still live at the provider.
    stack.graph.setFaults({ errorRate: 1 });
    await changes.drain();
    const toggled = await client.put(`groups/${group.id}/sync`, { enabled: false });
    expect(toggled.status).toBe(200);

    const before = consumedLines().length;
    expect(await deliver('notify', sub.id)).toBe(202);
    // The subscription is still ours and live (deletes fail): only the syncing check keeps it back.
    expect(await nextConsumed(before)).toContain('"dropped_not_syncing":1');
    expect(await changes.drain()).toEqual([]);
    for (const m of await members()) expect(m).toMatchObject({ status: 'disabled', reason: 'GROUP_DISABLED' });

    // Graph failing for every mailbox is an outage of the tenant: the breaker stops the reconciler
    // (nobody charged). It recovers; the breaker's probe (every 20 s) resumes the passes, or a forced
    // retry does once the breaker has closed: either way the subscriptions are deleted.
    stack.graph.setFaults({ errorRate: 0 });
    for (const id of active) expect((await client.post(`users/${id}/sync/force`)).status).toBe(202);
    await eventually('every subscription is deleted', () => Promise.resolve(active.every((id) => liveFor(id).length === 0) ? true : undefined), 600, 100);
    await eventually('our table follows', async () => ((await Promise.all(active.map(why))).every((v) => v.subscriptions.length === 0) ? true : undefined));
  }, 90_000);

  it('never writes a clientState to the log', () => {
    expect(clientStates.size).toBeGreaterThanOrEqual(ELIGIBLE.length * RESOURCES.length);
    const log = hostLog();
    for (const clientState of clientStates) expect(log.includes(clientState)).toBe(false);
  });
});
