/**
 * A Vantagepoint that answers only in the shapes Deltek documents, and is NOT this project's
 * emulator (issue 7, "Done means"): records are built from the documented samples kept in
 * test/fixtures/vantagepoint/, and where Deltek documents nothing it takes the other plausible
 * answer from the emulator's, so a client leaning on the emulator's choices fails here:
 * - "Get an Access Token": the password grant's fields exactly as Deltek spells them (`Username`,
 *   `Password`, `grant_type`, `Integrated`, `database`, `Client_Id`, `client_secret`); the refresh
 *   grant as the Go client sends it (`refresh_token`, `client_id`, `client_secret`, `database`);
 *   field names are matched exactly, `database` must name this server's database; OAuth errors;
 * - "Responses": every answer an array, a missing single record `200 []` (the emulator: 404),
 *   REST errors `{Message, Detail}` capitalised (the emulator: lower case);
 * - "Pagination": only `offset`/`limit` are honoured (`page` is ignored) and pages are capped at
 *   40, below the 100 the client asks for;
 * - users carry upper-case `Username`s and no `Role` (Postman collection's user list); employees
 *   the documented record's fields, `fieldFilter` honoured.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import employeeFixture from '../fixtures/vantagepoint/employee.json';
import usersFixture from '../fixtures/vantagepoint/users.json';

export interface DocumentedUser {
  username: string;
  password?: string;
  employee: string | null;
  status: 'A' | 'I';
}
export interface DocumentedEmployee {
  key: string;
  firstName: string;
  lastName: string;
  email: string | null;
  status: 'A' | 'I' | 'T';
}
export interface DocumentedVantagepoint {
  /** base URL; the API is under /api */
  url: string;
  /** every request's path and query, in order */
  requests: Array<{ method: string; path: string; query: URLSearchParams; form: URLSearchParams | null }>;
  stop(): Promise<void>;
}

const PAGE_CAP = 40;
const TOKEN_LIFETIME_SECONDS = 1799; // Deltek's sample

type Answer = { status: number; body: unknown };
const restError = (status: number, message: string, detail: string): Answer => ({ status, body: { Message: message, Detail: detail } });
const oauthError = (error: string, description: string): Answer => ({ status: 400, body: { error, error_description: description } });

export async function startDocumentedVantagepoint(options: {
  database: string;
  clientId: string;
  clientSecret: string;
  users: DocumentedUser[];
  employees: DocumentedEmployee[];
}): Promise<DocumentedVantagepoint> {
  const accessTokens = new Set<string>();
  const refreshTokens = new Set<string>();
  const employees = new Map(options.employees.map((e) => [e.key.toLowerCase(), e]));
  const requests: DocumentedVantagepoint['requests'] = [];

  const employeeRecord = (e: DocumentedEmployee): Record<string, unknown> => ({
    ...employeeFixture.response.body[0],
    Employee: e.key,
    FirstName: e.firstName,
    LastName: e.lastName,
    PreferredName: e.firstName,
    EMail: e.email,
    Status: e.status,
  });
  const userRecord = (u: DocumentedUser): Record<string, unknown> => {
    const e = u.employee ? employees.get(u.employee.toLowerCase()) : undefined;
    return {
      ...usersFixture.response.body[0],
      Username: u.username.toUpperCase(),
      DisplayUsername: u.username.toLowerCase(),
      Employee: u.employee,
      Status: u.status,
      EmployeeStatus: e?.status ?? null,
      EmployeeName: e ? `${e.firstName} ${e.lastName}` : null,
    };
  };
  const fieldFilter = (record: Record<string, unknown>, query: URLSearchParams) => {
    const wanted = query.get('fieldFilter')?.split(',').map((f) => f.trim().toLowerCase());
    return wanted ? Object.fromEntries(Object.entries(record).filter(([k]) => wanted.includes(k.toLowerCase()))) : record;
  };
  const page = <T>(items: T[], query: URLSearchParams): T[] => {
    const offset = Number(query.get('offset') ?? 0);
    const limit = Math.min(Number(query.get('limit') ?? PAGE_CAP), PAGE_CAP);
    return items.slice(offset, offset + limit);
  };

  function token(form: URLSearchParams): Answer {
    const grant = form.get('grant_type');
    const clientId = grant === 'password' ? form.get('Client_Id') : form.get('client_id');
    if (clientId !== options.clientId || form.get('client_secret') !== options.clientSecret) return oauthError('invalid_client', 'Client authentication failed.');
    if (form.get('database')?.toLowerCase() !== options.database.toLowerCase()) return oauthError('invalid_request', 'The database is not available.');
    if (grant === 'password') {
      const user = options.users.find((u) => u.username.toLowerCase() === form.get('Username')?.toLowerCase());
      if (form.get('Integrated') !== 'N' || !user?.password || user.password !== form.get('Password') || user.status !== 'A') {
        return oauthError('invalid_grant', 'The user name or password is incorrect.');
      }
    } else if (grant === 'refresh_token') {
      const refresh = form.get('refresh_token') ?? '';
      if (!refreshTokens.delete(refresh)) return oauthError('invalid_grant', 'The refresh token is invalid.');
    } else {
      return oauthError('unsupported_grant_type', `${grant ?? ''} is not supported.`);
    }
    const access = randomBytes(18).toString('base64url');
    const refresh = randomBytes(18).toString('base64url');
    accessTokens.add(access);
    refreshTokens.add(refresh);
    return { status: 200, body: { access_token: access, token_type: 'bearer', expires_in: TOKEN_LIFETIME_SECONDS, refresh_token: refresh } };
  }

  function get(path: string, query: URLSearchParams): Answer {
    if (path === '/api/user') return { status: 200, body: page(options.users, query).map(userRecord) };
    if (path === '/api/employee') return { status: 200, body: page(options.employees, query).map((e) => fieldFilter(employeeRecord(e), query)) };
    const user = /^\/api\/user\/([^/]+)$/.exec(path)?.[1];
    if (user !== undefined) {
      const found = options.users.find((u) => u.username.toLowerCase() === decodeURIComponent(user).toLowerCase());
      return { status: 200, body: found ? [userRecord(found)] : [] };
    }
    const key = /^\/api\/employee\/([^/]+)$/.exec(path)?.[1];
    if (key !== undefined) {
      const found = employees.get(decodeURIComponent(key).toLowerCase());
      return { status: 200, body: found ? [fieldFilter(employeeRecord(found), query)] : [] };
    }
    return restError(404, 'No HTTP resource was found that matches the request URI.', path);
  }

  async function answer(req: http.IncomingMessage, url: URL): Promise<Answer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(text) : null;
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, form });
    if (url.pathname === '/api/token' && req.method === 'POST') return form ? token(form) : oauthError('invalid_request', 'A form body is required.');
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !accessTokens.has(bearer)) return restError(401, 'Authorization has been denied for this request.', '');
    if (req.method !== 'GET') return restError(405, 'The requested resource does not support this method.', url.pathname);
    return get(url.pathname, url.searchParams);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://vantagepoint');
    void answer(req, url).then(({ status, body }) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
