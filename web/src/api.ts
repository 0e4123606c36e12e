/**
 * The page's one door to the API (SPEC §3). Sends the session token as a bearer, every
 * change with If-Match when the caller knows the resource's ETag, and turns any
 * non-2xx answer into an ApiError holding the RFC 9457 problem (title, detail, code).
 */
import type { Group, Problem } from './types';

/** The page is served at {prefix}/connect-admin/, the API is {prefix}/. */
const API_BASE = new URL('../', window.location.href);
const TOKEN_KEY = 'connect-admin.session';

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
  }
}

export interface Session {
  token: string | null;
  expiresAt: string | null;
  username: string;
}

let session: Session | null = readStoredSession();
let onSignedOut: (message: string) => void = () => undefined;

/** Kept per tab (sessionStorage), so closing the tab ends it; the HttpOnly cookie covers reloads as well. */
function readStoredSession(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(TOKEN_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Session;
    if (parsed.expiresAt && Date.parse(parsed.expiresAt) <= Date.now()) return null;
    return parsed;
  } catch {
    return null;
  }
}

export function currentSession(): Session | null {
  return session;
}

export function setSession(next: Session | null): void {
  session = next;
  try {
    if (next) window.sessionStorage.setItem(TOKEN_KEY, JSON.stringify(next));
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage may be disabled in a sandboxed frame: the in-memory session still works
  }
}

export function whenSignedOut(handler: (message: string) => void): void {
  onSignedOut = handler;
}

/**
 * The embedding Vantagepoint form can hand over the session it already holds in the URL
 * fragment (#token=…): fragments never reach a server or a log. Taken once, then removed.
 */
export function adoptFragmentToken(): boolean {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return false;
  const token = decodeURIComponent(match[1]);
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/dashboard`);
  setSession({ token, expiresAt: null, username: '' });
  return true;
}

export interface CallOptions {
  body?: unknown;
  ifMatch?: string;
  signal?: AbortSignal;
}

export interface Answer<T> {
  data: T;
  etag: string | null;
  status: number;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (session?.token) headers.authorization = `Bearer ${session.token}`;
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
    if (res.status === 401 && !path.startsWith('session')) {
      setSession(null);
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
