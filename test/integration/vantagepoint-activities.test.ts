/**
 * The Activities hub of the Vantagepoint emulator and the client that writes to it, against
 * Deltek's documented samples and rules (test/fixtures/vantagepoint/activities.ts names each source).
 */
import { startVantagepointEmulator, LOCAL_CLIENT_SECRET, localUserToken, type VantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { createSecretSource } from '../../shared/adapters/secrets';
import { createActivityWriter } from '../../shared/adapters/vantagepoint/activities';
import { parseConfig } from '../../shared/config';
import type { ActivityFields } from '../../shared/domain/events';
import type { ActivityWriter } from '../../shared/ports';
import { CREATE_ACTIVITY, UPDATE_ACTIVITY_RESPONSE } from '../fixtures/vantagepoint/activities';

let vp: VantagepointEmulator;
let writer: ActivityWriter;
let token: string;

const fields = (subject: string, extra: Partial<ActivityFields> = {}): ActivityFields => ({
  Type: 'Meeting',
  Subject: subject,
  StartDate: '2026-03-21T09:00:00.000',
  EndDate: '2026-03-21T10:00:00.000',
  AllDayEventInd: 'N',
  Notes: 'Agenda',
  Owner: 'E0010',
  ...extra,
});

beforeAll(async () => {
  vp = await startVantagepointEmulator({ port: 0 });
  const env = {
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    VANTAGEPOINT_BASE_URL: vp.url,
    VANTAGEPOINT_CLIENT_ID: 'connect-local',
    VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
    VANTAGEPOINT_CLIENT_SECRET: LOCAL_CLIENT_SECRET,
    VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
    GRAPH_NOTIFICATION_URL: 'https://example.test/api/notifications/graph',
  };
  const config = parseConfig(env);
  writer = createActivityWriter(config, createSecretSource(config, { env }));
  token = await localUserToken(vp.url, 'admin');
});
afterAll(async () => {
  await vp?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${vp.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('Deltek’s documented shapes', () => {
  it('the documented record (an array around one record, zone-less dates) is what the emulator answers', async () => {
    const documented = UPDATE_ACTIVITY_RESPONSE[0] as Record<string, unknown>;
    const created = await call('POST', `${CREATE_ACTIVITY.path.replace('/activity', '/activity')}?startWorkflow=N`, { Type: 'Meeting', Subject: 'Shape' });
    expect(created.status).toBe(CREATE_ACTIVITY.status);
    expect(Array.isArray(created.body)).toBe(true);
    const record = (created.body as Array<Record<string, unknown>>)[0] ?? {};
    for (const field of ['ActivityID', 'Type', 'StartDate', 'EndDate', 'HasNotes', 'Notes', 'CompletionInd', 'Subject', 'AllDayEventInd', 'RecurrenceInd', 'Attendees']) {
      expect(record).toHaveProperty(field);
      expect(typeof record[field]).toBe(typeof documented[field]);
    }
    expect(String(record.ActivityID)).toMatch(/^[0-9A-F]{32}$/);
  });

  it('Type and Subject are required; Type must be in CFGActivityType; dates in Vantagepoint’s format', async () => {
    expect((await call('POST', '/activity', { Subject: 'x' })).status).toBe(400);
    expect((await call('POST', '/activity', { Type: 'Meeting' })).status).toBe(400);
    const unknownType = await call('POST', '/activity', { Type: 'Lunch', Subject: 'x' });
    expect(unknownType).toMatchObject({ status: 400, body: { message: expect.any(String), detail: expect.stringContaining('CFGActivityType') } });
    expect((await call('POST', '/activity', { Type: 'Meeting', Subject: 'x', StartDate: '21/03/2026' })).status).toBe(400);
    expect((await call('POST', '/activity', { Type: 'Meeting', Subject: 'x', Nonsense: 1 })).status).toBe(400);
  });

  it('PUT is a partial update; GET of a missing key is 404', async () => {
    const created = await writer.create(fields('Partial'));
    if (!created.ok) throw new Error(created.message);
    const put = await call('PUT', `/activity/${created.activityId}?startWorkflow=N`, { Subject: 'Partial (renamed)' });
    expect(put.status).toBe(200);
    expect((put.body as Array<Record<string, unknown>>)[0]).toMatchObject({ Subject: 'Partial (renamed)', Notes: 'Agenda', Owner: 'E0010' });
    expect((await call('GET', `/activity/${created.activityId}`)).body).toEqual([expect.objectContaining({ Subject: 'Partial (renamed)' })]);
    expect((await call('GET', '/activity/00000000000000000000000000000000')).status).toBe(404);
  });

  it('a Vantagepoint that answers a missing key with 200 [] (seen in practice) does so for activities too', async () => {
    const empty = await startVantagepointEmulator({ port: 0, missingRecord: 'empty' });
    try {
      const adminToken = await localUserToken(empty.url, 'admin');
      const res = await fetch(`${empty.url}/api/activity/00000000000000000000000000000000`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    } finally {
      await empty.stop();
    }
  });

  it('the list pages at most 100 a page, orders and filters fields as documented ("Pagination")', async () => {
    for (let i = 0; i < 105; i++) await writer.create(fields(`Paged ${String(i).padStart(3, '0')}`));
    const page1 = await call('GET', '/activity?page=1&pageSize=500');
    expect((page1.body as unknown[]).length).toBe(100);
    const filtered = await call('GET', '/activity?page=1&pageSize=5&order=Subject_D&fieldFilter=ActivityID,Subject');
    const rows = filtered.body as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(5);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['ActivityID', 'Subject']);
    expect(rows.map((r) => r.Subject)).toEqual([...rows.map((r) => r.Subject)].sort().reverse());
  });

  it('the activity type code table answers like every other look-up', async () => {
    expect((await call('GET', '/codeTable/CFGActivityType/Meeting')).body).toEqual([{ Code: 'Meeting', Description: 'Meeting' }]);
    expect((await call('GET', '/codeTable/CFGActivityType/Lunch')).status).toBe(404);
    expect(await writer.checkActivityType('Meeting')).toEqual({ known: true });
    expect(await writer.checkActivityType('Lunch')).toMatchObject({ known: false });
  });
});

describe('the client', () => {
  it('writes with startWorkflow=N and dvp-applicationId: Activity, and never sends an ActivityID or attendees', async () => {
    const before = vp.activities.requests.length;
    const created = await writer.create(fields('Flags'));
    if (!created.ok) throw new Error(created.message);
    await writer.update(created.activityId, { Subject: 'Flags 2' });
    await writer.remove(created.activityId);
    const requests = vp.activities.requests.slice(before);
    expect(requests.map((r) => r.method)).toEqual(['POST', 'PUT', 'DELETE']);
    for (const r of requests) expect(r).toMatchObject({ startWorkflow: CREATE_ACTIVITY.query.startWorkflow, applicationId: CREATE_ACTIVITY.headers['dvp-applicationId'] });
    expect(vp.activities.all().every((a) => a.Attendees === '')).toBe(true);
  });

  it('DELETE: gone when done or already gone; refused when Vantagepoint does not allow it', async () => {
    const created = await writer.create(fields('Delete me'));
    if (!created.ok) throw new Error(created.message);
    expect(await writer.remove(created.activityId)).toEqual({ ok: true, activityId: created.activityId });
    expect(await writer.remove(created.activityId)).toEqual({ ok: true, activityId: created.activityId });
    const kept = await writer.create(fields('Keep me'));
    if (!kept.ok) throw new Error(kept.message);
    vp.activities.behaviour.deleteMode = 'refuse';
    try {
      expect(await writer.remove(kept.activityId)).toMatchObject({ ok: false, failure: 'refused', status: 405 });
    } finally {
      vp.activities.behaviour.deleteMode = 'allow';
    }
  });

  it('an update of an activity someone deleted is "gone"; a refused write is "permanent" with Vantagepoint’s detail', async () => {
    expect(await writer.update('00000000000000000000000000000000', { Subject: 'x' })).toMatchObject({ ok: false, failure: 'gone' });
    expect(await writer.create(fields('Bad', { Type: 'Lunch' }))).toMatchObject({ ok: false, failure: 'permanent', code: 'VANTAGEPOINT_REJECTED', message: expect.stringContaining('CFGActivityType') });
  });

  it('finds an activity by the reference in its Notes, beyond the first page, newest first', async () => {
    const since = new Date().toISOString();
    const target = await writer.create(fields('Orphan', { Notes: 'Agenda\n\n[Connect Sync 0123456789ABCDEF0123456789ABCDEF]' }));
    if (!target.ok) throw new Error(target.message);
    for (let i = 0; i < 120; i++) await writer.create(fields(`Newer ${i}`));
    expect(await writer.findByReference('[Connect Sync 0123456789ABCDEF0123456789ABCDEF]', 'E0010', since)).toBe(target.activityId);
    expect(await writer.findByReference('[Connect Sync FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF]', 'E0010', since)).toBeNull();
    // another employee's activity with the same text is not ours
    expect(await writer.findByReference('[Connect Sync 0123456789ABCDEF0123456789ABCDEF]', 'E0099', since)).toBeNull();
  });
});
