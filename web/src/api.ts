/**
 * The page's one door to the API (SPEC §3). Sends the session token as a bearer, every
 * change with If-Match when the caller knows the resource's ETag, and turns any
 * non-2xx answer into an ApiError holding the RFC 9457 problem (title, detail, code).
 */
import type { Group, Problem } from './types';

/** The page is served at {prefix}/connect-admin/, the API is {prefix}/. */
const API_BASE = new URL('../', window.location.href);

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
  }
}

/**
 * Who is signed in. The HttpOnly session cookie carries the session itself (the page never
 * sees it); the page keeps only the csrfToken, in memory, and sends it on every write.
 * `token` is set only when an embedding page handed a session over (#token=…), because a
 * frame inside another site does not get the SameSite=Strict cookie: it is kept in memory,
 * never stored.
 */
export interface Session {
  username: string;
  expiresAt: string | null;
  csrfToken: string | null;
  token: string | null;
}

interface SessionAnswer {
  expiresAt: string | null;
  csrfToken: string | null;
  token?: string;
  user?: { username?: string };
}

let session: Session | null = null;
let onSignedOut: (message: string) => void = () => undefined;

export function currentSession(): Session | null {
  return session;
}

export function whenSignedOut(handler: (message: string) => void): void {
  onSignedOut = handler;
}

/**
 * The embedding Vantagepoint form can hand over a session it already holds in the URL
 * fragment (#token=…): fragments never reach a server or a log. Taken once, then removed.
 */
function takeFragmentToken(): string | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return null;
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/dashboard`);
  return decodeURIComponent(match[1]);
}

const toSession = (answer: SessionAnswer, token: string | null, fallbackName = ''): Session => ({
  username: answer.user?.username ?? fallbackName,
  expiresAt: answer.expiresAt,
  csrfToken: answer.csrfToken,
  token,
});

/** On load: a handed-over session, or the cookie's (GET /api/session); null means sign in. */
export async function resumeSession(): Promise<Session | null> {
  const handedOver = takeFragmentToken();
  if (handedOver) session = { username: '', expiresAt: null, csrfToken: null, token: handedOver };
  try {
    const { data } = await call<SessionAnswer>('GET', 'session', { quiet: true });
    session = toSession(data, handedOver);
  } catch (err) {
    // A service without GET /api/session still accepts a handed-over token on every other call.
    if (!(handedOver && err instanceof ApiError && (err.status === 404 || err.status === 405))) session = null;
  }
  return session;
}

export async function signIn(username: string, password: string): Promise<Session> {
  const { data } = await call<SessionAnswer>('POST', 'session', { body: { username, password }, quiet: true });
  // The cookie now carries the session; the token itself is not kept.
  session = toSession(data, null, username);
  return session;
}

export async function signOut(): Promise<void> {
  try {
    await call('DELETE', 'session', { quiet: true });
  } finally {
    session = null;
  }
}

export interface CallOptions {
  body?: unknown;
  ifMatch?: string;
  signal?: AbortSignal;
  /** a 401 is the caller's to handle (sign-in), not "your session ended" */
  quiet?: boolean;
}

export interface Answer<T> {
  data: T;
  etag: string | null;
  status: number;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (session?.token) headers.authorization = `Bearer ${session.token}`;
  else if (session?.csrfToken && method !== 'GET') headers['x-csrf-token'] = session.csrfToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let res: Response;
  try {
    res = await fetch(new URL(path, API_BASE), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, { title: 'Network error', detail: 'The service could not be reached. Check the connection and try again.', status: 0, code: 'NETWORK' });
  }
  const text = await res.text();
  const json = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const problem = toProblem(res, json);
    if (res.status === 401 && !options.quiet) {
      session = null;
      onSignedOut(problem.detail || 'Your session has ended. Sign in again.');
    }
    throw new ApiError(res.status, problem);
  }
  return { data: json as T, etag: res.headers.get('etag'), status: res.status };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toProblem(res: Response, json: unknown): Problem {
  if (json && typeof json === 'object' && 'title' in json) return json as Problem;
  return { title: res.statusText || `HTTP ${res.status}`, detail: `The service answered ${res.status}.`, status: res.status, code: 'HTTP_ERROR' };
}

export const get = <T>(path: string, signal?: AbortSignal) => call<T>('GET', path, { signal });

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const groupPath = (groupId: string) => `groups/${encodeURIComponent(groupId)}`;

/** The group as it is now (after a 412: who changed it, and when). */
export async function freshGroup(groupId: string): Promise<Group> {
  return (await get<Group>(groupPath(groupId))).data;
}
