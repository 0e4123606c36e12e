/**
 * Contract tests: Deltek's documented samples (test/fixtures/vantagepoint/, each naming its
 * source) run through the client. The "server" here is a stub answering exactly those samples,
 * so what passes is the client's reading of Deltek's shapes, not the emulator's leniency.
 */
import employeeFixture from '../fixtures/vantagepoint/employee.json';
import passwordGrant from '../fixtures/vantagepoint/token-password-grant.json';
import refreshGrant from '../fixtures/vantagepoint/token-refresh-grant.json';
import tokenErrors from '../fixtures/vantagepoint/token-errors.json';
import responses from '../fixtures/vantagepoint/responses.json';
import usersFixture from '../fixtures/vantagepoint/users.json';
import { restDetail } from '../../shared/adapters/vantagepoint/api';
import { ServiceUnavailableError, UnauthorizedError } from '../../shared/errors';
import { stub, stubDirectory as directory, type StubAnswer as Answer } from '../support/vantagepointStub';

const tokenOk: Answer = { status: 200, body: passwordGrant.response.body };
const single = (record: unknown): Answer => ({ status: 200, body: [record] });

describe('"Get an Access Token"', () => {
  it('sends exactly the documented password-grant fields, and reads the documented answer', async () => {
    const server = stub((path) => (path === '/token' ? tokenOk : undefined));
    expect(await directory(server.fetchImpl).checkCredentials()).toMatchObject({ ok: true });
    const form = server.requests[0]?.form;
    expect([...(form?.keys() ?? [])].sort()).toEqual(Object.keys(passwordGrant.request.form).sort());
    expect(Object.fromEntries(form ?? [])).toEqual({
      Username: 'SVC',
      Password: 'svc-password',
      grant_type: 'password',
      Integrated: 'N',
      database: 'AcmeDB',
      Client_Id: 'client-1',
      client_secret: 'secret-1',
    });
  });

  it('renews with the refresh grant carrying the documented fields, database included', async () => {
    let clock = 0;
    const server = stub((path, _q, form) => {
      if (path === '/token') return form?.get('grant_type') === 'refresh_token' ? { status: 200, body: refreshGrant.response.body } : tokenOk;
      if (path.startsWith('/employee/')) return single(employeeFixture.filtered.body[0]);
      return { status: 200, body: [] };
    });
    const vp = directory(server.fetchImpl, {}, { now: () => clock });
    await vp.employeeFacts(['00001']);
    clock += 1790_000; // inside the renewal margin of the 1799 s token
    await vp.employeeFacts(['00001']);
    const refresh = server.requests.find((r) => r.form?.get('grant_type') === 'refresh_token')?.form;
    expect([...(refresh?.keys() ?? [])].sort()).toEqual(Object.keys(refreshGrant.request.form).sort());
    expect(refresh?.get('database')).toBe('AcmeDB');
    expect(refresh?.get('refresh_token')).toBe(passwordGrant.response.body.refresh_token);
  });

  it.each(tokenErrors.cases.filter((c) => c.body.error !== 'invalid_grant'))('any refusal of a refresh ($name) clears the tokens and falls back once to the password grant', async (refusal) => {
    let clock = 0;
    const server = stub((path, _q, form) => {
      if (path === '/token') return form?.get('grant_type') === 'refresh_token' ? { status: refusal.status, body: refusal.body } : tokenOk;
      return path === '/user' ? { status: 200, body: [] } : single(employeeFixture.filtered.body[0]);
    });
    const vp = directory(server.fetchImpl, {}, { now: () => clock });
    await vp.employeeFacts(['00001']);
    clock += 1790_000;
    expect((await vp.employeeFacts(['00001'])).get('00001')?.exists).toBe(true);
    const grants = server.requests.filter((r) => r.path === '/token').map((r) => r.form?.get('grant_type'));
    expect(grants).toEqual(['password', 'refresh_token', 'password']);
    expect(vp.health()).toMatchObject({ ok: true, lastError: null });
  });

  it('a refresh answered with something that is not OAuth at all also falls back to the password grant', async () => {
    let clock = 0;
    const server = stub((path, _q, form) => {
      if (path === '/token') return form?.get('grant_type') === 'refresh_token' ? { status: 400, body: { Message: 'Bad request' } } : tokenOk;
      return path === '/user' ? { status: 200, body: [] } : single(employeeFixture.filtered.body[0]);
    });
    const vp = directory(server.fetchImpl, {}, { now: () => clock });
    await vp.employeeFacts(['00001']);
    clock += 1790_000;
    await vp.employeeFacts(['00001']);
    expect(server.requests.filter((r) => r.path === '/token').map((r) => r.form?.get('grant_type'))).toEqual(['password', 'refresh_token', 'password']);
  });

  it('a person\'s wrong password (invalid_grant) is 401; a refused client (invalid_client) is the service\'s problem (503)', async () => {
    const invalidGrant = tokenErrors.cases.find((c) => c.body.error === 'invalid_grant');
    const invalidClient = tokenErrors.cases.find((c) => c.body.error === 'invalid_client');
    const wrong = stub((path) => (path === '/token' ? { status: 400, body: invalidGrant?.body } : undefined));
    await expect(directory(wrong.fetchImpl).authenticate('admin', 'nope')).rejects.toBeInstanceOf(UnauthorizedError);
    const refused = stub((path) => (path === '/token' ? { status: 400, body: invalidClient?.body } : undefined));
    await expect(directory(refused.fetchImpl).authenticate('admin', 'pw')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('a person\'s password grant refused otherwise (Deltek documents only invalid_grant)', () => {
  const refusals: Array<[string, Answer]> = [
    ['invalid_request', { status: 400, body: { error: 'invalid_request', error_description: 'The user cannot sign in.' } }],
    ['a 401 that is not OAuth', { status: 401, body: { Message: 'Authorization has been denied for this request.' } }],
    ['unauthorized_client', { status: 400, body: { error: 'unauthorized_client' } }],
  ];

  it.each(refusals)('%s is a 401 while the service account\'s own grant is accepted', async (_name, refusal) => {
    const s = stub((path, _q, form) => (path === '/token' ? (form?.get('Username') === 'SVC' ? tokenOk : refusal) : undefined));
    await expect(directory(s.fetchImpl).authenticate('someone', 'pw')).rejects.toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
  });

  it.each(refusals)('%s is a 503 when the service account is refused too (the service\'s problem, not the person\'s)', async (_name, refusal) => {
    const s = stub((path) => (path === '/token' ? refusal : undefined));
    await expect(directory(s.fetchImpl).authenticate('someone', 'pw')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('users and employees (Postman collection)', () => {
  const users = usersFixture.response.body;
  function server(missing: Answer = { status: 404, body: responses.missingRecord[0]?.body }) {
    return stub((path, query) => {
      if (path === '/token') return tokenOk;
      if (path === '/user') return { status: 200, body: query.get('page') === '1' || query.get('offset') === '0' ? users : [] };
      const user = /^\/user\/(.+)$/.exec(path)?.[1];
      if (user) {
        const found = users.find((u) => u.Username.toLowerCase() === decodeURIComponent(user).toLowerCase());
        return found ? single(found) : missing;
      }
      const employee = /^\/employee\/(.+)$/.exec(path)?.[1];
      if (employee === '00001') return { status: 200, body: employeeFixture.response.body };
      if (employee === '00002') return single({ ...employeeFixture.filtered.body[0], Employee: '00002', EMail: 'john.doe@example.com' });
      if (employee === '00003') return single({ ...employeeFixture.filtered.body[0], Employee: '00003', Status: 'T' });
      return missing;
    });
  }

  it('reads Status A/I, asks only for the employee fields it needs, and reads the array of one', async () => {
    const s = server();
    const facts = await directory(s.fetchImpl).employeeFacts(['00001', '00003', '09999']);
    expect(facts.get('00001')).toEqual({ employeeId: '00001', exists: true, name: 'Ada Admin', email: 'ada.admin@example.com', employeeStatus: 'A', user: { username: 'ADMIN', active: true } });
    expect(facts.get('00003')).toMatchObject({ employeeStatus: 'T', user: { username: 'OLDUSER', active: false } });
    expect(facts.get('09999')).toMatchObject({ exists: false });
    const employeeCall = s.requests.find((r) => r.path === '/employee/00001');
    expect(employeeCall?.query.get('fieldFilter')?.split(',').sort()).toEqual(['EMail', 'Employee', 'FirstName', 'LastName', 'Status']);
  });

  it('a user record without a Status (Deltek documents only A and I) is read alike by the caller check and the member prerequisites: not inactive', async () => {
    const { Status: _left, ...admin } = users[0] as Record<string, unknown>;
    const s = stub((path, query) => {
      if (path === '/token') return tokenOk;
      if (path === '/user') return { status: 200, body: query.get('page') === '1' || query.get('offset') === '0' ? [admin] : [] };
      if (path === '/user/admin') return single(admin);
      if (path === '/employee/00001') return { status: 200, body: employeeFixture.response.body };
      return undefined;
    });
    const vp = directory(s.fetchImpl);
    expect(await vp.checkCaller('admin')).toMatchObject({ username: 'ADMIN', employeeId: '00001' });
    expect((await vp.employeeFacts(['00001'])).get('00001')?.user).toEqual({ username: 'ADMIN', active: true });
  });

  it('a missing record is "none" whether Vantagepoint answers 404 or 200 []', async () => {
    for (const missing of responses.missingRecord) {
      const vp = directory(server(missing).fetchImpl);
      expect((await vp.employeeFacts(['09999'])).get('09999')).toMatchObject({ exists: false });
      await expect(vp.checkCaller('nobody')).rejects.toMatchObject({ code: 'ADMIN_ROLE' });
    }
  });

  it('still accepts a single record sent as an object', async () => {
    const s = stub((path) => {
      if (path === '/token') return tokenOk;
      if (path === '/user/admin') return { status: 200, body: users[0] };
      if (path.startsWith('/employee/')) return { status: 200, body: employeeFixture.filtered.body[0] };
      return undefined;
    });
    expect(await directory(s.fetchImpl).checkCaller('admin')).toMatchObject({ username: 'ADMIN', employeeId: '00001' });
  });

  it('a look-up answered with several records (a server searching instead of looking up) yields the one asked for, never another', async () => {
    const admin = users[0] as Record<string, unknown>;
    const lookalike = { ...admin, Username: 'ADMINISTRATOR', Employee: '00002' };
    const s = stub((path) => {
      if (path === '/token') return tokenOk;
      if (path === '/user/admin') return { status: 200, body: [lookalike, admin] };
      if (path === '/user/adm') return { status: 200, body: [lookalike, admin] };
      if (path === '/employee/00001') return { status: 200, body: [{ ...employeeFixture.filtered.body[0], Employee: '000010' }, employeeFixture.filtered.body[0]] };
      return undefined;
    });
    const vp = directory(s.fetchImpl, { CONNECT_ADMIN_USERS: 'admin,adm' });
    expect(await vp.checkCaller('admin')).toMatchObject({ username: 'ADMIN', employeeId: '00001' });
    await expect(vp.checkCaller('adm')).rejects.toMatchObject({ code: 'ADMIN_ROLE' }); // no user "adm" among them
  });

  it('with no Role on the record (Deltek\'s sample), CONNECT_ADMIN_USERS decides, ignoring case', async () => {
    const vp = directory(server().fetchImpl);
    expect(await vp.checkCaller('Admin')).toEqual({ username: 'ADMIN', employeeId: '00001', email: 'ada.admin@example.com', role: '' });
    await expect(vp.checkCaller('jdoe')).rejects.toMatchObject({ code: 'ADMIN_ROLE' });
    await expect(vp.checkCaller('olduser')).rejects.toMatchObject({ code: 'ADMIN_ROLE' }); // inactive user
  });
});

describe('"Responses": REST errors in any casing', () => {
  it.each(responses.errors)('reads {message, detail} of a $status', (error) => {
    const body = error.body as unknown as Record<string, string>;
    const message = Object.entries(body).find(([k]) => k.toLowerCase() === 'message')?.[1] ?? '';
    expect(restDetail(body)).toContain(message);
  });
});

describe('the Vantagepoint-bearer mode (VANTAGEPOINT_WHOAMI_PATH, unverified)', () => {
  it('is off by default: a Vantagepoint token identifies nobody', async () => {
    const s = stub(() => undefined);
    await expect(directory(s.fetchImpl).whoAmI('vp-token')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(s.requests).toHaveLength(0);
  });

  it('where configured, asks that path with the caller\'s own token for their user record (array or object)', async () => {
    const s = stub((path) => (path === '/user/me' ? { status: 200, body: [usersFixture.response.body[0]] } : undefined));
    expect(await directory(s.fetchImpl, { VANTAGEPOINT_WHOAMI_PATH: '/user/me' }).whoAmI('vp-token')).toBe('ADMIN');
    const refused = stub((path) => (path === '/user/me' ? { status: 401, body: { message: 'Authorization has been denied for this request.' } } : undefined));
    await expect(directory(refused.fetchImpl, { VANTAGEPOINT_WHOAMI_PATH: '/user/me' }).whoAmI('bad')).rejects.toBeInstanceOf(UnauthorizedError);
  });
});
