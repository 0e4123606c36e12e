/**
 * The data sync end to end, as a new user would see it (issue 12, "Done means"): the development
 * host, Azurite and both emulators; events are created through the Graph emulator's control routes,
 * activities read back through the Vantagepoint emulator's documented GET /api/activity.
 * Needs `npm run build` first.
 */
import fs from 'node:fs';
import type { EventInput } from '../../dev/emulators/graph/events';
import type { ActivityRecord } from '../../dev/emulators/vantagepoint/activities';
import { localUserToken } from '../../dev/emulators/vantagepoint/server';
import { api, createGroup, employee, type Api, type GroupBody } from '../support/http';
import { eventually } from '../support/reconcile';
import { adminToken, startStack, type Stack } from '../support/stack';

let stack: Stack;
let client: Api;
let group: GroupBody;
let vpToken: string;
const mailboxes = new Map<string, string>();
const ALICE = employee(10);
const BOB = employee(11);

beforeAll(async () => {
  stack = await startStack();
  // the service's session for its API; a Vantagepoint token of the emulator's own for reading activities back
  vpToken = await localUserToken(stack.vantagepoint.url, 'admin');
  client = api(stack, await adminToken(stack));
  group = await createGroup(client, 'ds');
  const added = await client.post<{ added: number }>(`groups/${group.id}/members`, { employeeIds: [ALICE, BOB], move: true });
  expect(added.status).toBe(200);
  const members = await client.get<{ items: Array<{ employeeId: string; email: string }> }>(`groups/${group.id}/members`);
  for (const m of members.body.items) mailboxes.set(m.employeeId, m.email.toLowerCase());
  // tagged before the group is enabled: no subscription yet, so no notification ever names it
  const early = await control('POST', `${mailboxes.get(ALICE)}/events`, meeting('Planned before enable'));
  expect(early.body.notifications).toEqual([]);
  expect((await client.put(`groups/${group.id}/sync`, { enabled: true })).status).toBe(200);
  await eventually('events subscriptions for both members', async () => {
    const subs = stack.graph.subscriptions().filter((s) => s.resource.endsWith('/events'));
    return subs.length >= 2 ? subs : undefined;
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function activities(): Promise<ActivityRecord[]> {
  // the documented list, paged at 100 like Vantagepoint
  const out: ActivityRecord[] = [];
  for (let page = 1; ; page++) {
    const res = await fetch(`${stack.vantagepoint.url}/api/activity?page=${page}&pageSize=100`, { headers: { authorization: `Bearer ${vpToken}` } });
    expect(res.status).toBe(200);
    const rows = (await res.json()) as ActivityRecord[];
    out.push(...rows);
    if (rows.length < 100) return out;
  }
}

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.graph.url}/emulator/mailboxes/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function meeting(subject: string, extra: Record<string, unknown> = {}) {
  const start = new Date(Date.now() + 86_400_000);
  start.setUTCMinutes(0, 0, 0);
  const end = new Date(start.getTime() + 3_600_000);
  const wall = (d: Date) => d.toISOString().slice(0, 19);
  return {
    subject,
    body: { contentType: 'text', content: `Agenda for ${subject}` },
    start: { dateTime: wall(start), timeZone: 'UTC' },
    end: { dateTime: wall(end), timeZone: 'UTC' },
    categories: ['Vantagepoint'],
    ...extra,
  };
}

/** The consumer's structured line for an event (every item logs one, with the notification's request id). */
function itemLines(eventId: string): Array<Record<string, unknown>> {
  return fs
    .readFileSync(stack.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"datasync.item"') && line.includes(eventId))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
}

const withSubject = async (subject: string) => (await activities()).filter((a) => String(a.Subject) === subject);

it('a meeting tagged before the group was enabled arrives through the first catch-up (calendarView/delta)', async () => {
  await eventually('the early activity', async () => ((await withSubject('Planned before enable')).length === 1 ? true : undefined));
});

describe('a syncing user’s tagged meeting becomes exactly one activity', () => {
  let eventId: string;

  it('creates the activity with its subject, times (UTC) and the member as owner', async () => {
    const created = await control('POST', `${mailboxes.get(ALICE)}/events`, meeting('Design review'));
    expect(created.status).toBe(201);
    eventId = String(created.body.id);
    const [activity] = await eventually('the activity', async () => {
      const found = await withSubject('Design review');
      return found.length > 0 ? found : undefined;
    });
    const start = (created.body.start as { dateTime: string }).dateTime;
    expect(activity).toMatchObject({ Type: 'Meeting', AllDayEventInd: 'N', Owner: ALICE });
    expect(String(activity?.StartDate)).toBe(`${start.slice(0, 19)}.000`);
    expect(String(activity?.Notes)).toContain('Agenda for Design review');
    // every write asked Vantagepoint not to start workflows, as Connect
    expect(stack.vantagepoint.activities.requests.every((r) => r.startWorkflow === 'N' && r.applicationId === 'Activity')).toBe(true);
  });

  it('an edit updates the same activity', async () => {
    expect((await control('PATCH', `${mailboxes.get(ALICE)}/events/${eventId}`, { subject: 'Design review (moved)' })).status).toBe(200);
    await eventually('the renamed activity', async () => ((await withSubject('Design review (moved)')).length === 1 ? true : undefined));
    expect(await withSubject('Design review')).toEqual([]);
  });

  it('the same notification twice still leaves one activity, and writes nothing', async () => {
    const sub = stack.graph.subscriptions().find((s) => s.resource.toLowerCase() === `users/${mailboxes.get(ALICE)}/events`);
    expect(sub).toBeDefined();
    const writesBefore = stack.vantagepoint.activities.requests.length;
    const before = itemLines(eventId).length;
    await stack.graph.sendChangeNotification(sub?.id ?? '', 'updated', eventId);
    await stack.graph.sendChangeNotification(sub?.id ?? '', 'updated', eventId);
    await eventually('both notifications consumed', async () => (itemLines(eventId).length >= before + 2 ? true : undefined));
    expect(itemLines(eventId).slice(-2).map((l) => l.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(await withSubject('Design review (moved)')).toHaveLength(1);
    expect(stack.vantagepoint.activities.requests.length).toBe(writesBefore);
  });

  it('deleting the event deletes the activity', async () => {
    expect((await control('DELETE', `${mailboxes.get(ALICE)}/events/${eventId}`)).status).toBe(200);
    await eventually('the activity deleted', async () => ((await withSubject('Design review (moved)')).length === 0 ? true : undefined));
  });
});

it('a `missed` lifecycle event makes the data sync catch up on changes whose notifications were lost', async () => {
  const mailbox = mailboxes.get(BOB) ?? '';
  // changed in the calendar, but Graph never delivered the notification
  stack.graph.calendars.create(mailbox, meeting('Lost notification') as unknown as EventInput);
  const sub = stack.graph.subscriptions().find((s) => s.resource.toLowerCase() === `users/${mailbox}/events`);
  expect(await stack.graph.sendLifecycleEvent(sub?.id ?? '', 'missed')).toBe(202);
  await eventually('the caught-up activity', async () => ((await withSubject('Lost notification')).length === 1 ? true : undefined));
});

describe('what never syncs', () => {
  it('an untagged or a private meeting never becomes an activity', async () => {
    const untagged = await control('POST', `${mailboxes.get(BOB)}/events`, meeting('Lunch', { categories: [] }));
    const secret = await control('POST', `${mailboxes.get(BOB)}/events`, meeting('Doctor', { sensitivity: 'private' }));
    for (const [event, reason] of [
      [untagged, 'NOT_TAGGED'],
      [secret, 'PRIVATE'],
    ] as const) {
      const lines = await eventually('the item consumed', async () => {
        const found = itemLines(String(event.body.id));
        return found.length > 0 ? found : undefined;
      });
      expect(lines[0]).toMatchObject({ outcome: 'skipped', reason });
    }
    expect(await withSubject('Lunch')).toEqual([]);
    expect(await withSubject('Doctor')).toEqual([]);
  });

  it('the why view has a data step; a refused write is a sync issue that the members list and connect status count', async () => {
    stack.vantagepoint.activities.behaviour.refuseWrites = { status: 400, detail: 'A required field of the screen designer is empty.' };
    let refusedId = '';
    try {
      const refused = await control('POST', `${mailboxes.get(BOB)}/events`, meeting('Refused by Vantagepoint'));
      refusedId = String(refused.body.id);
      await eventually('the failure', async () => (itemLines(refusedId).some((l) => l.outcome === 'failed') ? true : undefined));
    } finally {
      stack.vantagepoint.activities.behaviour.refuseWrites = null;
    }
    const why = await client.get<{ steps: Array<{ name: string; ok: boolean; detail: string }>; dataSync: Record<string, unknown> }>(`users/${BOB}/sync`);
    expect(why.status).toBe(200);
    expect(why.body.steps.at(-1)).toMatchObject({ name: 'data', ok: false, detail: expect.stringContaining('VANTAGEPOINT_REJECTED') });
    expect(why.body.dataSync).toMatchObject({ failed: 1, lastError: expect.objectContaining({ code: 'VANTAGEPOINT_REJECTED' }), issues: [expect.objectContaining({ eventId: refusedId })] });
    const aliceWhy = await client.get<{ steps: Array<{ name: string; ok: boolean }>; dataSync: { created: number; lastItem: unknown } }>(`users/${ALICE}/sync`);
    expect(aliceWhy.body.steps.at(-1)).toMatchObject({ name: 'data', ok: true });
    expect(aliceWhy.body.dataSync.created).toBeGreaterThanOrEqual(2);
    const members = await client.get<{ items: Array<{ employeeId: string; syncIssues: number }> }>(`groups/${group.id}/members`);
    expect(members.body.items.find((m) => m.employeeId === BOB)?.syncIssues).toBe(1);
    expect(members.body.items.find((m) => m.employeeId === ALICE)?.syncIssues).toBe(0);
    const status = await client.get<{ syncIssues: { issues: number; users: number } }>('connect/status');
    expect(status.body.syncIssues).toEqual({ issues: 1, users: 1 });
  });

  it('after the group is disabled, a new tagged meeting does not sync', async () => {
    expect((await client.put(`groups/${group.id}/sync`, { enabled: false })).status).toBe(200);
    const writesBefore = stack.vantagepoint.activities.requests.length;
    const created = await control('POST', `${mailboxes.get(BOB)}/events`, meeting('After the stop'));
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    // Stopped at the provider (the disable's pass deleted the subscription first: nothing was delivered),
    // before mail-changes (the deliveries' consumer drops it) or at the data-sync consumer (its re-check):
    // when something was delivered, a line says where it stopped.
    const delivered = (created.body.notifications as unknown[] | undefined)?.length ?? 0;
    if (delivered > 0) await eventually('the stop observed', async () => {
      const log = fs.readFileSync(stack.logFile, 'utf8').split('\n');
      const consumer = itemLines(id).some((l) => l.outcome === 'not_syncing');
      // dropped as not syncing, or as no longer ours (the disable's pass deleted the subscription's row meanwhile)
      const intake = log.some((l) => l.includes('"notifications.consumed"') && /"(dropped_not_syncing|unknown_subscription)":[1-9]/.test(l));
      return consumer || intake ? true : undefined;
    });
    expect(await withSubject('After the stop')).toEqual([]);
    expect(stack.vantagepoint.activities.requests.length).toBe(writesBefore);
  });
});
