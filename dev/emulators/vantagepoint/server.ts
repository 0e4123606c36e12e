import { listenOnLoopback } from '../../support/listen';
import http from 'node:http';
import type { VantagepointEmployee, VantagepointUser } from '../../../shared/adapters/vantagepoint/wire';
import { HttpProblem, oauthError, restError, sameSecret, TokenEndpoint } from './oauth';
import { ListingError, pageOf, selectFields } from './listing';
import defaultSeed from './seed.json';
import { ActivitiesHub, Answer, RestProblem } from './activities';

/**
 * The emulator's data: users (with a password when they may sign in) and employees, in the
 * shapes of Deltek's Postman collection. Deltek's user record has no `Role`; a seed may add one
 * only to model an installation that returns it.
 */
export interface SeedData {
  users: Array<{ Username: string; DisplayUsername?: string; Password?: string; Employee: string; Status: string; Role?: string }>;
  employees: VantagepointEmployee[];
}

export interface VantagepointEmulatorOptions {
  port?: number;
  seed?: SeedData;
  /** access-token lifetime (expires_in); default 1799 like Vantagepoint */
  tokenLifetimeSeconds?: number;
  clientId?: string;
  clientSecret?: string;
  /** clock (epoch ms) for token expiry, so tests can move time instead of sleeping */
  now?: () => number;
  /** the database every token request must name in its `database` field (present, and equal ignoring case); default '' (the default database) */
  database?: string;
  /** how a missing single record is answered: 404 ("Responses") or `200 []` (seen in practice) */
  missingRecord?: 404 | 'empty';
}

export interface VantagepointEmulator {
  /** e.g. http://127.0.0.1:7072 — the API is under url + '/api' */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** A new client secret (Vantagepoint's "Generate new secret"): the old one and every issued token stop working. */
  rotateSecret(newSecret: string): void;
  revokeAllTokens(): void;
  /** Requests received for exactly this path (no query), or all requests without a path. */
  requestCount(path?: string): number;
  /** Successful token grants of this type. */
  grantCount(grantType: 'password' | 'refresh_token'): number;
  /** Changes a user record as an administrator would in Settings > Security > Users (tests: a role or status lost). */
  updateUser(username: string, patch: Partial<Pick<SeedData['users'][number], 'Status' | 'Role' | 'Employee'>>): void;
  /** the Activities hub (dev/emulators/vantagepoint/activities.ts): records, write requests, behaviour where Deltek documents none */
  activities: ActivitiesHub;
}

export const LOCAL_CLIENT_ID = 'connect-local';
export const LOCAL_CLIENT_SECRET = 'local-dev-secret';
/** The local emulator's database: the default one (''); the `database` field must still be sent. */
export const LOCAL_DATABASE = '';

/** The form of a password grant with the local client credentials ("Get an Access Token"). */
export function localPasswordGrant(username: string, password = username): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'password',
    Username: username,
    Password: password,
    Integrated: 'N',
    database: LOCAL_DATABASE,
    Client_Id: LOCAL_CLIENT_ID,
    client_secret: LOCAL_CLIENT_SECRET,
  });
}

/** A user's access token from a Vantagepoint (emulator) at `baseUrl`, with the local client credentials. */
export async function localUserToken(baseUrl: string, username: string, password = username): Promise<string> {
  const res = await fetch(`${baseUrl}/api/token`, { method: 'POST', body: localPasswordGrant(username, password) });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request for ${username} failed with ${res.status}`);
  return body.access_token;
}
/** Vantagepoint does not publish its refresh-token lifetime; a working day is a plausible stand-in. */
/**
 * An in-memory Vantagepoint that speaks the REST endpoints Connect Sync uses, exactly in the
 * shapes Deltek documents (docs/VANTAGEPOINT.md; samples in test/fixtures/vantagepoint/): the
 * OAuth token endpoint ("Get an Access Token"), users and employees as JSON arrays, single
 * records included ("Responses"), paging capped at 100 ("Pagination"). It has no who-am-I
 * endpoint: `/api/user/current` is the user named "current", as on a real server.
 */
class VantagepointState {
  readonly tokens: TokenEndpoint;
  private readonly employees: Map<string, VantagepointEmployee>;
  private readonly users: Map<string, SeedData['users'][number]>;
  readonly requests = new Map<string, number>();
  readonly activities: ActivitiesHub;

  constructor(seed: SeedData, client: { clientId: string; clientSecret: string; lifetimeSeconds: number; database: string }, now: () => number) {
    this.activities = new ActivitiesHub(now);
    this.employees = new Map(seed.employees.map((e) => [e.Employee.toLowerCase(), e]));
    this.users = new Map(seed.users.map((u) => [u.Username.toLowerCase(), u]));
    this.tokens = new TokenEndpoint({ ...client, now, signIn: (username, password) => this.signIn(username, password) });
  }

  /** The user a password grant names, when the password is theirs and they are active. */
  private signIn(username: string, password: string): string | null {
    const user = this.users.get(username.toLowerCase());
    return user && user.Password !== undefined && sameSecret(password, user.Password) && user.Status === 'A' ? user.Username : null;
  }

  updateUser(username: string, patch: Partial<Pick<SeedData['users'][number], 'Status' | 'Role' | 'Employee'>>): void {
    const user = this.users.get(username.toLowerCase());
    if (!user) throw new Error(`no user ${username}`);
    this.users.set(username.toLowerCase(), { ...user, ...patch });
  }

  /** A user record as Deltek's user list shows it (no Role unless the seed models one). */
  user(username: string): VantagepointUser | null {
    const user = this.users.get(username.toLowerCase());
    if (!user) return null;
    const employee = this.employees.get(user.Employee.toLowerCase());
    return {
      Username: user.Username,
      DisplayUsername: user.DisplayUsername ?? user.Username,
      Employee: user.Employee,
      Status: user.Status,
      EmployeeStatus: employee?.Status ?? '',
      EmployeeName: employee ? `${employee.FirstName} ${employee.LastName}` : '',
      ...(user.Role !== undefined ? { Role: user.Role } : {}),
    };
  }

  userPage(query: URLSearchParams): VantagepointUser[] {
    return pageOf([...this.users.values()], query).map((u) => this.user(u.Username) as VantagepointUser);
  }

  employee(key: string, query: URLSearchParams): Partial<VantagepointEmployee> | null {
    const employee = this.employees.get(key.toLowerCase());
    return employee ? selectFields(employee, query) : null;
  }

  employeePage(query: URLSearchParams): Array<Partial<VantagepointEmployee>> {
    return pageOf([...this.employees.values()], query).map((e) => selectFields(e, query));
  }
}

/** Deltek's "Responses": every answer is an array; a missing key is a 404 (or `200 []`, as seen in practice). */
function single(record: unknown, missing: 404 | 'empty', what: string): unknown[] {
  if (record !== null) return [record];
  if (missing === 'empty') return [];
  throw restError(404, 'Not found.', `${what} does not exist.`);
}

type Route = (state: VantagepointState, match: RegExpExecArray, query: URLSearchParams, missing: 404 | 'empty') => unknown;
const ROUTES: Array<[RegExp, Route]> = [
  [/^\/api\/user$/, (s, _m, q) => s.userPage(q)],
  [/^\/api\/user\/([^/]+)$/, (s, m, _q, missing) => single(s.user(decodeURIComponent(m[1] ?? '')), missing, 'The user')],
  [/^\/api\/employee$/, (s, _m, q) => s.employeePage(q)],
  [/^\/api\/employee\/([^/]+)$/, (s, m, q, missing) => single(s.employee(decodeURIComponent(m[1] ?? ''), q), missing, 'The employee')],
];

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(state: VantagepointState, req: http.IncomingMessage, url: URL, missing: 404 | 'empty'): Promise<unknown> {
  if (url.pathname === '/api/token') {
    if (req.method !== 'POST') throw restError(405, 'Method not allowed.', 'Use POST.');
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      throw oauthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
    }
    return state.tokens.grant(new URLSearchParams(await readBody(req)));
  }
  const username = state.tokens.authenticate(req.headers.authorization);
  if (/^\/api\/(activity|codeTable)(\/|$)/i.test(url.pathname)) return activityRoutes(state, req, url, username, missing);
  if (req.method !== 'GET') throw restError(405, 'Method not allowed.', 'Only GET is emulated.');
  for (const [pattern, route] of ROUTES) {
    const match = pattern.exec(url.pathname);
    if (!match) continue;
    try {
      return route(state, match, url.searchParams, missing);
    } catch (err) {
      if (err instanceof ListingError) throw restError(400, 'Invalid paging parameters.', err.detail);
      throw err;
    }
  }
  throw restError(404, 'Not found.', `No emulated endpoint at ${url.pathname}.`);
}

async function activityRoutes(state: VantagepointState, req: http.IncomingMessage, url: URL, username: string, missing: 404 | 'empty'): Promise<unknown> {
  const text = await readBody(req);
  let body: unknown;
  try {
    body = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    throw restError(400, 'The request is invalid.', 'The body is not valid JSON.');
  }
  try {
    const answer = state.activities.handle(req.method ?? 'GET', url, body, username, req.headers, missing);
    if (answer === undefined) throw restError(404, 'Not found.', `No emulated endpoint at ${url.pathname}.`);
    return answer;
  } catch (err) {
    if (err instanceof RestProblem) throw restError(err.status, err.message, err.detail);
    throw err;
  }
}

export async function startVantagepointEmulator(options: VantagepointEmulatorOptions = {}): Promise<VantagepointEmulator> {
  const state = new VantagepointState(
    options.seed ?? defaultSeed,
    {
      clientId: options.clientId ?? LOCAL_CLIENT_ID,
      clientSecret: options.clientSecret ?? LOCAL_CLIENT_SECRET,
      lifetimeSeconds: options.tokenLifetimeSeconds ?? 1799,
      database: options.database ?? LOCAL_DATABASE,
    },
    options.now ?? Date.now,
  );
  const missing = options.missingRecord ?? 404;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    state.requests.set(url.pathname, (state.requests.get(url.pathname) ?? 0) + 1);
    void handle(state, req, url, missing)
      .then((body) => (body instanceof Answer ? { status: body.status, body: body.body } : { status: 200, body }))
      .catch((err: unknown) =>
        err instanceof HttpProblem ? { status: err.status, body: err.body } : { status: 500, body: { message: 'Internal error.', detail: String(err) } },
      )
      .then(({ status, body }) => {
        if (body === undefined) {
          res.writeHead(status).end();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      });
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    ...listening,
    rotateSecret: (secret) => state.tokens.rotateSecret(secret),
    revokeAllTokens: () => state.tokens.revokeAll(),
    requestCount: (path) => (path === undefined ? [...state.requests.values()].reduce((a, b) => a + b, 0) : (state.requests.get(path) ?? 0)),
    grantCount: (grantType) => state.tokens.grants[grantType],
    updateUser: (username, patch) => state.updateUser(username, patch),
    activities: state.activities,
  };
}
