/**
 * GET/PUT /api/connect/settings over HTTP: the notification list (validated, at most 20)
 * and the mass-removal threshold; ETag-guarded and audited. Connect status shows how
 * notification emails go.
 */
import { createStorage } from '../../shared/adapters/tables';
import { CONNECT_SCOPE } from '../../shared/operations/context';
import { api, expectFieldError, expectProblem, withAdminStack, type Api } from '../support/http';
import { adminToken, type Stack } from '../support/stack';

interface Settings {
  notificationEmails: string[];
  massRemovalGuard: { percent: number; minimum: number };
  updatedAt: string | null;
  updatedBy: string | null;
  etag: string;
}

let stack: Stack;
let admin: Api;

withAdminStack((started, client) => {
  stack = started;
  admin = client;
});

it('serves the defaults until someone saves, then what was saved, with its ETag; audited', async () => {
  const initial = await admin.get<Settings>('connect/settings');
  expect(initial.status).toBe(200);
  expect(initial.body).toEqual({ notificationEmails: [], massRemovalGuard: { percent: 20, minimum: 10 }, updatedAt: null, updatedBy: null, etag: expect.any(String) });
  expect(initial.headers.get('etag')).toBe(initial.body.etag);

  const saved = await admin.put<Settings>('connect/settings', { notificationEmails: ['ops@contoso.test', ' It@Contoso.test '] }, { headers: { 'if-match': initial.body.etag } });
  expect(saved.status).toBe(200);
  expect(saved.body).toMatchObject({ notificationEmails: ['ops@contoso.test', 'It@Contoso.test'], massRemovalGuard: { percent: 20, minimum: 10 }, updatedBy: 'admin' });
  expect(saved.headers.get('etag')).toBe(saved.body.etag);

  // a field left out keeps its value
  const guard = await admin.put<Settings>('connect/settings', { massRemovalGuard: { percent: 30, minimum: 5 } });
  expect(guard.body).toMatchObject({ notificationEmails: ['ops@contoso.test', 'It@Contoso.test'], massRemovalGuard: { percent: 30, minimum: 5 } });
  expect((await admin.get<Settings>('connect/settings')).body).toEqual(guard.body);

  const storage = createStorage({ connectionString: stack.env.AzureWebJobsStorage as string });
  const trail = await storage.audit.list(CONNECT_SCOPE, { top: 10 });
  expect(trail.items.filter((e) => e.action === 'settings.update').map((e) => [e.by, e.to])).toEqual([
    ['admin', { notificationEmails: ['ops@contoso.test', 'It@Contoso.test'], massRemovalGuard: { percent: 30, minimum: 5 } }],
    ['admin', { notificationEmails: ['ops@contoso.test', 'It@Contoso.test'], massRemovalGuard: { percent: 20, minimum: 10 } }],
  ]);
});

it('refuses a stale If-Match with 412 and changes nothing', async () => {
  const before = await admin.get<Settings>('connect/settings');
  await admin.put('connect/settings', { notificationEmails: ['first@contoso.test'] }, { headers: { 'if-match': before.body.etag } });
  expectProblem(await admin.put('connect/settings', { notificationEmails: ['second@contoso.test'] }, { headers: { 'if-match': before.body.etag } }), 412, 'PRECONDITION_FAILED');
  expect((await admin.get<Settings>('connect/settings')).body.notificationEmails).toEqual(['first@contoso.test']);
});

it('refuses an invalid address, more than 20, a duplicate or a bad threshold with 400 naming the field', async () => {
  expectFieldError(await admin.put('connect/settings', { notificationEmails: ['ok@contoso.test', 'not an address'] }), 'body.notificationEmails.1');
  const many = Array.from({ length: 21 }, (_, i) => `a${i}@contoso.test`);
  expectFieldError(await admin.put('connect/settings', { notificationEmails: many }), 'body.notificationEmails');
  expectFieldError(await admin.put('connect/settings', { notificationEmails: ['a@contoso.test', 'A@contoso.test'] }), 'body.notificationEmails');
  expectFieldError(await admin.put('connect/settings', { massRemovalGuard: { percent: 120, minimum: 10 } }), 'body.massRemovalGuard.percent');
  expectProblem(await admin.send('PUT', 'connect/settings', { raw: 'notificationEmails=a', headers: { 'content-type': 'text/plain' } }), 415);
});

it('is for Connect administrators only', async () => {
  expectProblem(await api(stack).get('connect/settings'), 401);
  const staff = api(stack, await adminToken(stack, 'jdoe'));
  expectProblem(await staff.put('connect/settings', { notificationEmails: ['x@contoso.test'] }), 403, 'ADMIN_ROLE');
});

it('shows the notification sender and how sending went on connect status', async () => {
  const res = await admin.get<{ notifications: { sender: string | null; ok: boolean; lastError: string | null } }>('connect/status');
  expect(res.body.notifications).toEqual({ sender: stack.env.NOTIFICATION_SENDER, ok: true, lastSentAt: null, lastErrorAt: null, lastError: null });
});
