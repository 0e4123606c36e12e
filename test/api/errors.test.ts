import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../dev/support/ports';
import { ALL_ENDPOINTS } from '../../shared/api/endpoints';
import { adminToken, startStack, type Stack } from '../support/stack';
import { api, createGroup, expectFieldError, expectProblem, uniqueId, type Api, type GroupBody } from '../support/http';

/**
 * Every error status of the admin API over real HTTP, with the RFC 9457 problem shape:
 * 400 (errors[] naming the field), 401, 403 (both caller codes), 404, 409 (organisation
 * prerequisites, on a second stack configured for Windows authentication), 413, 415 and
 * 503 + Retry-After (a third stack whose Vantagepoint is a closed port). Also the OpenAPI
 * document. Employees used by this file only: E0070–E0072, E0204.
 */

let stack: Stack;
let admin: Api;
let group: GroupBody;

beforeAll(async () => {
  stack = await startStack();
  admin = api(stack, await adminToken(stack));
  group = await createGroup(admin, 'errors');
});

afterAll(async () => {
  await stack?.stop();
});

describe('400 with errors[] naming each bad field', () => {
  it.each([
    ['a group id with a space', 'groups/a%20b'],
    ['a group id starting with "-"', 'groups/-abc'],
    ['a group id over 64 characters', `groups/${'a'.repeat(65)}`],
    ['a group id with a Table Storage forbidden character', 'groups/a%23b/history'],
  ])('path: %s', async (_what, path) => {
    expectFieldError(await admin.get(path), 'path.groupId');
  });

  it('path: a bad employee id on member and user routes', async () => {
    expectFieldError(await admin.del(`groups/${group.id}/members/bad%20id`), 'path.employeeId');
    expectFieldError(await admin.get(`users/${'9'.repeat(40)}/sync`), 'path.employeeId');
  });

  it('body: invalid fields are each named', async () => {
    const res = await admin.post('groups', { id: uniqueId('bad'), name: '   ', mailboxAccess: 'exchange', description: 'bell\u0007' });
    const fields = expectFieldError(res, 'body.name').errors?.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.name', 'body.mailboxAccess', 'body.description']));
    expectFieldError(await admin.post('groups', { name: 'No id', mailboxAccess: 'google' }), 'body.id');
    expectFieldError(await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0001', 'bad id'] }), 'body.employeeIds.1');
    expectFieldError(await admin.post(`groups/${group.id}/members`, { employeeIds: [] }), 'body.employeeIds');
    expectFieldError(await admin.post(`groups/${group.id}/members`, { employeeIds: ['E0001'], move: 'yes' }), 'body.move');
    expectFieldError(await admin.put(`groups/${group.id}/sync`, { enabled: 'yes' }), 'body.enabled');
    expectFieldError(await admin.put(`groups/${group.id}/sync`, {}), 'body.enabled');
    expectFieldError(await admin.patch(`groups/${group.id}`, {}), 'body');
    expectFieldError(await admin.put(`groups/${group.id}/sync`, [true]), 'body');
  });

  it('body: an unknown property is refused and named', async () => {
    const res = await admin.put(`groups/${group.id}/sync`, { enabled: true, force: true });
    const body = expectFieldError(res, 'body');
    expect(body.errors?.some((e) => e.message.includes('force'))).toBe(true);
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body.sync).toBe('disabled');
  });

  it.each([['top=0'], ['top=201'], ['top=abc'], ['top=1.5']])('query: %s', async (query) => {
    expectFieldError(await admin.get(`groups?${query}`), 'query.top');
  });

  it('query: a bad sync filter and an empty continuation token', async () => {
    expectFieldError(await admin.get('groups?sync=maybe'), 'query.sync');
    expectFieldError(await admin.get(`groups/${group.id}/history?continuationToken=`), 'query.continuationToken');
  });

  it('query: a continuation token the service never issued is a 4xx, not a server error', async () => {
    for (const token of ['not-a-token', 'eyJ4IjoxfQ', '%FF%FE']) {
      const res = await admin.get(`groups?continuationToken=${token}`);
      expect(res.status === 200 || res.status === 400).toBe(true);
      if (res.status === 400) expectProblem(res, 400);
    }
  });

  it('malformed JSON and an empty body', async () => {
    const json = { 'content-type': 'application/json' };
    expectFieldError(await admin.send('POST', 'groups', { raw: '{"id": "x",', headers: json }), 'body');
    expectFieldError(await admin.send('PUT', `groups/${group.id}/sync`, { raw: '', headers: json }), 'body');
    expectFieldError(await admin.send('PUT', `groups/${group.id}/sync`, { raw: new Uint8Array([0x7b, 0xff, 0x7d]), headers: json }), 'body');
  });

  it('an empty If-Match header', async () => {
    expectFieldError(await admin.put(`groups/${group.id}/sync`, { enabled: false }, { headers: { 'if-match': '' } }), 'header.If-Match');
  });
});

describe('401 and 403: the caller check', () => {
  it('answers 401 without a token, with a garbage token and with another scheme', async () => {
    for (const authorization of [undefined, 'Bearer not-a-vantagepoint-token', 'Bearer !!!', 'Basic YWRtaW46YWRtaW4=', 'Bearer']) {
      const res = await api(stack).get('groups', authorization ? { headers: { authorization } } : {});
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('answers 403 ADMIN_ROLE at sign-in to a user who is not a Connect administrator (jdoe)', async () => {
    const res = await api(stack).post('session', { username: 'jdoe', password: 'jdoe' });
    expectProblem(res, 403, 'ADMIN_ROLE');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('answers 403 ADMIN_EMPLOYEE at sign-in to an administrator whose employee has no email (noemail)', async () => {
    expectProblem(await api(stack).post('session', { username: 'noemail', password: 'noemail' }), 403, 'ADMIN_EMPLOYEE');
  });

  it('answers 401 INVALID_CREDENTIALS to a wrong password', async () => {
    expectProblem(await api(stack).post('session', { username: 'admin', password: 'not-the-password' }), 401, 'INVALID_CREDENTIALS');
  });

  it('checks the caller before reading the body: a bad body without a session is still 401', async () => {
    expectProblem(await api(stack).send('POST', 'groups', { raw: 'not json', headers: { 'content-type': 'text/plain' } }), 401, 'UNAUTHORIZED');
  });
});

describe('404, 413 and 415', () => {
  it('answers 404 for an unknown group, member and user', async () => {
    expectProblem(await admin.get(`groups/${uniqueId('none')}`), 404, 'GROUP_NOT_FOUND');
    expectProblem(await admin.del(`groups/${group.id}/members/E0071`), 404, 'MEMBER_NOT_FOUND');
    expectProblem(await admin.get('users/E9999/sync'), 404, 'USER_NOT_FOUND');
  });

  it('answers 413 to a body over 256 KiB, with or without a content-length', async () => {
    const big = JSON.stringify({ employeeIds: ['E0070'], padding: 'x'.repeat(257 * 1024) });
    expectProblem(await admin.send('POST', `groups/${group.id}/members`, { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');

    const chunks = new TextEncoder().encode(big);
    const streamed = await fetch(`${stack.baseUrl}/groups/${group.id}/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await adminToken(stack)}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < chunks.byteLength; at += 64 * 1024) controller.enqueue(chunks.subarray(at, at + 64 * 1024));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.headers.get('content-type')).toBe('application/problem+json');
    expect(((await streamed.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
    expect((await admin.get<GroupBody>(`groups/${group.id}`)).body.memberCount).toBe(0);
  });

  it('answers 415 to a text/plain body and to a body without a content type', async () => {
    expectProblem(await admin.send('PUT', `groups/${group.id}/sync`, { raw: '{"enabled":true}', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await admin.send('POST', 'groups', { raw: new TextEncoder().encode('{"id":"x"}') }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('409: organisation prerequisites not met', () => {
  let windows: Stack;
  let winAdmin: Api;

  beforeAll(async () => {
    windows = await startStack({ VANTAGEPOINT_AUTH_MODE: 'windows' });
    winAdmin = api(windows, await adminToken(windows));
  });

  afterAll(async () => {
    await windows?.stop();
  });

  const syncRows = async (client: Api, groupId: string) =>
    (await client.get<{ items: Array<{ action: string }> }>(`groups/${groupId}/history`)).body.items.filter((e) => e.action === 'group.sync');

  it('preflight names each failing prerequisite and the members that would not be configured', async () => {
    const g = await createGroup(winAdmin, 'windows');
    expect((await winAdmin.post(`groups/${g.id}/members`, { employeeIds: ['E0070', 'E0204'] })).status).toBe(200);
    const res = await winAdmin.get<{ canEnable: boolean; organisation: Array<{ code: string; ok: boolean; message: string }>; members: { affected: Array<{ employeeId: string; reason: string }> } }>(
      `groups/${g.id}/sync/preflight`,
    );
    expect(res.status).toBe(200);
    expect(res.body.canEnable).toBe(false);
    expect(res.body.organisation.find((p) => p.code === 'WINDOWS_AUTH')).toEqual({ code: 'WINDOWS_AUTH', ok: false, message: expect.stringMatching(/Windows authentication/) });
    expect(res.body.members.affected).toEqual([expect.objectContaining({ employeeId: 'E0204', reason: 'NO_USER_RECORD' })]);
  });

  it('refuses to enable with 409 listing each failing code with its message, and changes nothing', async () => {
    const g = await createGroup(winAdmin, 'windows');
    const res = await winAdmin.put(`groups/${g.id}/sync`, { enabled: true });
    const problem = expectProblem(res, 409, 'ORG_PREREQUISITES_NOT_MET');
    expect(problem.prerequisites).toEqual([{ code: 'WINDOWS_AUTH', ok: false, message: expect.stringMatching(/not supported/) }]);
    expect(problem.detail).toContain('WINDOWS_AUTH');
    expect((await winAdmin.get<GroupBody>(`groups/${g.id}`)).body).toMatchObject({ sync: 'disabled', etag: g.etag });
    expect(await syncRows(winAdmin, g.id)).toEqual([]);
  });

  it('lists every failing code when the client secret is rotated as well', async () => {
    const g = await createGroup(winAdmin, 'rotated');
    // the caller check is cached for CALLER_CACHE_SECONDS, so the admin is still recognised
    windows.vantagepoint.rotateSecret('a-secret-the-service-does-not-know');
    const problem = expectProblem(await winAdmin.put(`groups/${g.id}/sync`, { enabled: true }), 409, 'ORG_PREREQUISITES_NOT_MET');
    const failing = problem.prerequisites as Array<{ code: string; ok: boolean; message: string }>;
    expect(failing.map((p) => p.code)).toEqual(['PUBLIC_URL', 'WINDOWS_AUTH', 'API_CLIENT']);
    for (const p of failing) expect(p).toEqual({ code: p.code, ok: false, message: expect.stringMatching(/\S/) });
    expect((await winAdmin.get<GroupBody>(`groups/${g.id}`)).body).toMatchObject({ sync: 'disabled', etag: g.etag });
    expect(await syncRows(winAdmin, g.id)).toEqual([]);
  });
});

describe('503 + Retry-After when Vantagepoint is unreachable', () => {
  let offline: Stack;

  beforeAll(async () => {
    offline = await startStack({ VANTAGEPOINT_BASE_URL: `http://127.0.0.1:${await freePort()}` });
  });

  afterAll(async () => {
    await offline?.stop();
  });

  it('cannot check the caller: 503 DEPENDENCY_UNAVAILABLE naming vantagepoint, with Retry-After', async () => {
    const client = api(offline, await adminToken(stack));
    for (const res of [await client.get('groups'), await client.put('groups/any/sync', { enabled: true })]) {
      const problem = expectProblem(res, 503, 'DEPENDENCY_UNAVAILABLE');
      expect(problem.dependency).toBe('vantagepoint');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document describing every route of the contract', async () => {
    const res = await api(stack).get<{ openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } }>('openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
    for (const endpoint of ALL_ENDPOINTS) {
      const operation = res.body.paths[`/api/${endpoint.route}`]?.[endpoint.method.toLowerCase()];
      expect({ route: `${endpoint.method} ${endpoint.route}`, documented: operation !== undefined }).toEqual({ route: `${endpoint.method} ${endpoint.route}`, documented: true });
      expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(Object.keys(endpoint.responses).sort());
    }
    expect(Object.keys(res.body.components.schemas)).toEqual(expect.arrayContaining(['Group', 'Problem', 'ToggleResult', 'CreateGroup']));
  });

  it('passes `redocly lint` (the recommended rules) with no errors, and names its server', async () => {
    const res = await fetch(`${stack.baseUrl}/openapi.json`);
    const text = await res.text();
    expect((JSON.parse(text) as { servers?: unknown[] }).servers?.length).toBeGreaterThan(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, text);
    const cli = require.resolve('@redocly/cli/bin/cli.js');
    const run = spawnSync(process.execPath, [cli, 'lint', file, '--format=stylish'], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 120_000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    // Warnings (unused components, no license) are allowed; errors are not.
    expect({ status: run.status, output: run.status === 0 ? '' : `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: '' });
  }, 150_000);
});
