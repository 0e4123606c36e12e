import { randomBytes } from 'node:crypto';
import { adminToken, startStack, type Stack } from './stack';

/** One answer of the API: status, headers, the parsed JSON body (or undefined) and the raw text. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  /** serialised as JSON with content-type application/json */
  json?: unknown;
  /** sent as is (no content-type unless given in headers) */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export type Send = <T = unknown>(method: string, path: string, options?: RequestOptions) => Promise<ApiResponse<T>>;

/** Real HTTP against the stack's functions host, as `token` (none when undefined). */
export function api(stack: Stack, token?: string) {
  const send: Send = async <T>(method: string, path: string, options: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
    let body: string | Uint8Array | undefined = options.raw;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const res = await fetch(`${stack.baseUrl}/${path.replace(/^\//, '')}`, { method, headers: { ...headers, ...options.headers }, body });
    const text = await res.text();
    const isJson = /json/i.test(res.headers.get('content-type') ?? '');
    return { status: res.status, headers: res.headers, body: (isJson && text ? JSON.parse(text) : undefined) as T, text };
  };
  return {
    send,
    get: <T = unknown>(path: string, options?: RequestOptions) => send<T>('GET', path, options),
    post: <T = unknown>(path: string, json?: unknown, options?: RequestOptions) => send<T>('POST', path, { json, ...options }),
    put: <T = unknown>(path: string, json?: unknown, options?: RequestOptions) => send<T>('PUT', path, { json, ...options }),
    patch: <T = unknown>(path: string, json?: unknown, options?: RequestOptions) => send<T>('PATCH', path, { json, ...options }),
    del: <T = unknown>(path: string, options?: RequestOptions) => send<T>('DELETE', path, options),
  };
}

export type Api = ReturnType<typeof api>;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: Array<{ field: string; message: string }>;
  [extra: string]: unknown;
}

/** Asserts an RFC 9457 problem with this status (and code, when given) and returns its body. */
export function expectProblem(res: ApiResponse, status: number, code?: string): ProblemBody {
  expect({ status: res.status, contentType: res.headers.get('content-type') }).toEqual({ status, contentType: 'application/problem+json' });
  const body = res.body as ProblemBody;
  expect(body).toEqual(
    expect.objectContaining({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String), code: code ?? expect.any(String) }),
  );
  if (status === 400) expect(body.errors?.length).toBeGreaterThan(0);
  return body;
}

/** Asserts a 400 whose errors[] names `field` (exactly, or as a prefix such as "body.employeeIds"). */
export function expectFieldError(res: ApiResponse, field: string): ProblemBody {
  const body = expectProblem(res, 400, 'VALIDATION_FAILED');
  expect(body.errors?.map((e) => e.field)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${field.replace(/\./g, '\\.')}(\\.|$)`))]));
  return body;
}

/** Ids unique to this run: Azurite is shared by every test file. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export interface GroupBody {
  id: string;
  name: string;
  description: string;
  mailboxAccess: string;
  sync: 'enabled' | 'disabled';
  counts: Record<string, number>;
  memberCount: number;
  updatedAt: string;
  updatedBy: string;
  etag: string;
}

/** Creates a disabled office365 group with a unique id and name. */
export async function createGroup(client: Api, prefix = 'g', extra: Record<string, unknown> = {}): Promise<GroupBody> {
  const id = uniqueId(prefix);
  const res = await client.post<GroupBody>('groups', { id, name: `Group ${id}`, mailboxAccess: 'office365', ...extra });
  if (res.status !== 201) throw new Error(`creating group ${id} answered ${res.status}: ${res.text}`);
  return res.body;
}

/** Employee ids E0001..E0250 as the Vantagepoint emulator's seed names them. */
export const employee = (n: number): string => `E${String(n).padStart(4, '0')}`;
export const employees = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => employee(from + i));

/**
 * One stack for the test file and the admin's client on it: started before the file's
 * tests, stopped after them. `bind` receives both once they are ready.
 */
export function withAdminStack(bind: (stack: Stack, admin: Api) => void | Promise<void>, overrides: Record<string, string> = {}): void {
  let started: Stack | undefined;
  beforeAll(async () => {
    started = await startStack(overrides);
    await bind(started, api(started, await adminToken(started)));
  });
  afterAll(async () => {
    await started?.stop();
  });
}

export interface Page<T> {
  items: T[];
  continuationToken?: string | null;
}

/** Every page of a listing, following continuationToken; also returns the page sizes. */
export async function allPages<T>(client: Api, path: string): Promise<{ items: T[]; sizes: number[] }> {
  const items: T[] = [];
  const sizes: number[] = [];
  let token: string | null | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await client.get<Page<T>>(token ? `${path}${sep}continuationToken=${encodeURIComponent(token)}` : path);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.text}`);
    items.push(...res.body.items);
    sizes.push(res.body.items.length);
    token = res.body.continuationToken;
  } while (token);
  return { items, sizes };
}
