/** The development host's HTTP side: routes compiled from the function definitions, requests and responses as the Functions host shapes them. */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { HttpRequest, HttpResponse, type Cookie, type HttpResponseInit } from '@azure/functions';
import type { FunctionDefinition } from '../shared/functionRegistry';
import { describe } from '../shared/http/endpoint';
import { problem } from '../shared/http/problem';
import { listenOnLoopback } from './support/listen';
import { hostLog, invocationContext, isKind, type DevHost, type HttpDefinition, type LogSink } from './hostSupport';

/** Azure's request body limit is far larger; the app's own limit is smaller, so one byte over 1 MiB is enough for it to answer 413. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024 + 1;


interface CompiledRoute {
  def: HttpDefinition;
  pattern: RegExp;
  names: string[];
  defaults: Record<string, string>;
  methods: ReadonlySet<string>;
  /** literal segments win over parameters, as in ASP.NET routing */
  literalSegments: number;
}

const PARAMETER = /\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)((?::[^}=?]+)*)(=[^}?]*)?(\?)?\}/g;

export function compileRoutes(definitions: readonly FunctionDefinition[], prefix: string): { prefix: string; routes: CompiledRoute[] } {
  return { prefix: prefix.replace(/^\/+|\/+$/g, ''), routes: definitions.filter(isKind('http')).map(compileRoute) };
}

function compileRoute(def: HttpDefinition): CompiledRoute {
  const template = (def.options.route ?? def.name).replace(/^\/+|\/+$/g, '');
  const names: string[] = [];
  const defaults: Record<string, string> = {};
  let literalSegments = 0;
  const source = template
    .split('/')
    .map((segment) => {
      if (!segment.includes('{')) {
        literalSegments += 1;
        return `/${escapeRegExp(segment)}`;
      }
      let optional = false;
      let pattern = '';
      let last = 0;
      for (const m of segment.matchAll(PARAMETER)) {
        const [whole, catchAll, name, , defaultValue, question] = m as unknown as [string, string | undefined, string, string, string | undefined, string | undefined];
        pattern += escapeRegExp(segment.slice(last, m.index)) + (catchAll ? '(.*)' : '([^/]+)');
        last = (m.index ?? 0) + whole.length;
        names.push(name);
        if (defaultValue !== undefined) defaults[name] = defaultValue.slice(1);
        optional ||= Boolean(question || catchAll || defaultValue !== undefined);
      }
      pattern += escapeRegExp(segment.slice(last));
      return optional ? `(?:/${pattern})?` : `/${pattern}`;
    })
    .join('');
  const methods = new Set((def.options.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase()));
  // ASP.NET routing is case-insensitive and tolerates a trailing slash.
  return { def, pattern: new RegExp(`^${source}/?$`, 'i'), names, defaults, methods, literalSegments };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type Dispatch =
  | { kind: 'found'; route: CompiledRoute; params: Record<string, string> }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string[] };

function dispatch(table: { prefix: string; routes: CompiledRoute[] }, method: string, pathname: string): Dispatch {
  const rest = stripPrefix(pathname, table.prefix);
  if (rest === undefined) return { kind: 'not-found' };
  const matches = table.routes
    .map((route) => ({ route, m: route.pattern.exec(rest) }))
    .filter((x): x is { route: CompiledRoute; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => b.route.literalSegments - a.route.literalSegments);
  if (matches.length === 0) return { kind: 'not-found' };
  const chosen = matches.find((x) => x.route.methods.has(method.toUpperCase()));
  if (!chosen) return { kind: 'method-not-allowed', allow: [...new Set(matches.flatMap((x) => [...x.route.methods]))].sort() };
  return { kind: 'found', route: chosen.route, params: paramsOf(chosen.route, chosen.m) };
}

function stripPrefix(pathname: string, prefix: string): string | undefined {
  if (prefix === '') return pathname;
  const head = `/${prefix}`;
  if (pathname.toLowerCase() === head.toLowerCase()) return '';
  return pathname.toLowerCase().startsWith(`${head.toLowerCase()}/`) ? pathname.slice(head.length) : undefined;
}

function paramsOf(route: CompiledRoute, m: RegExpExecArray): Record<string, string> {
  const params: Record<string, string> = {};
  route.names.forEach((name, i) => {
    const raw = m[i + 1];
    const value = raw === undefined ? route.defaults[name] : decodeSegment(raw);
    if (value !== undefined) params[name] = value;
  });
  return params;
}

/** Malformed escapes (`%ZZ`) are passed through as sent: validating them is the function's job. */
function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

// ------------------------------------------------------------------ HTTP server

export async function startHttpServer(
  port: number,
  table: { prefix: string; routes: CompiledRoute[] },
  sink: LogSink,
): Promise<DevHost> {
  const server = http.createServer((req, res) => {
    serveRequest(req, res, table, sink).catch((err: unknown) => {
      hostLog(sink, 'error', `request handling failed: ${describe(err)}`);
      if (!res.headersSent) sendProblem(res, 500, 'INTERNAL_ERROR', 'The request could not be processed.', hostRequestId(req));
      else res.destroy();
    });
  });
  return listenOnLoopback(server, port);
}

async function serveRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  table: { prefix: string; routes: CompiledRoute[] },
  sink: LogSink,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = requestUrl(req);
  const found = dispatch(table, method, url.pathname);
  if (found.kind === 'not-found') return sendProblem(res, 404, 'ROUTE_NOT_FOUND', `No function serves ${method} ${url.pathname}.`, hostRequestId(req));
  if (found.kind === 'method-not-allowed') {
    res.setHeader('allow', found.allow.join(', '));
    return sendProblem(res, 405, 'METHOD_NOT_ALLOWED', `${url.pathname} accepts ${found.allow.join(', ')}.`, hostRequestId(req));
  }
  const body = await readBody(req, MAX_REQUEST_BODY_BYTES);
  // The URL's own query is kept (no explicit `query`), so repeated parameters survive as on Azure.
  const request = new HttpRequest({
    method,
    url: url.href,
    headers: withForwardedFor(flattenHeaders(req.headers), req.socket.remoteAddress),
    params: found.params,
    body: body.bytes.byteLength > 0 ? { bytes: body.bytes } : undefined,
  });
  const functionName = found.route.def.name;
  const context = invocationContext(sink, functionName);
  let result: unknown;
  try {
    result = await found.route.def.options.handler(request, context);
  } catch (err) {
    context.error(`unhandled error: ${describe(err)}`);
    return sendProblem(res, 500, 'INTERNAL_ERROR', 'The function failed.', hostRequestId(req));
  }
  // Unread body bytes stay unread: closing the connection stops the client's upload.
  if (body.truncated) res.setHeader('connection', 'close');
  await writeResponse(res, toHttpResponse(result as HttpResponse | HttpResponseInit | undefined));
}

/** The URL as the client addressed it; a Host header that is not a host falls back to loopback. */
function requestUrl(req: http.IncomingMessage): URL {
  const target = req.url ?? '/';
  try {
    return new URL(`http://${req.headers.host ?? '127.0.0.1'}${target}`);
  } catch {
    return new URL(`http://127.0.0.1${target.startsWith('/') ? target : `/${target}`}`);
  }
}

/**
 * Reads at most `cap` bytes, then stops: the function still sees more than its own
 * limit and answers 413 itself, which keeps one place deciding that answer.
 */
function readBody(req: http.IncomingMessage, cap: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (truncated: boolean): void => {
      req.off('data', onData);
      resolve({ bytes: Buffer.concat(chunks).subarray(0, cap), truncated });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= cap) {
        req.pause();
        done(true);
      }
    };
    req.on('data', onData);
    req.once('end', () => done(false));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the request before sending all of its body'));
    });
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** Like Azure's front end, appends the address the connection came from to X-Forwarded-For. */
function withForwardedFor(headers: Record<string, string>, remoteAddress: string | undefined): Record<string, string> {
  if (!remoteAddress) return headers;
  const before = headers['x-forwarded-for'];
  return { ...headers, 'x-forwarded-for': before ? `${before}, ${remoteAddress}` : remoteAddress };
}

/** A returned plain object is wrapped in an HttpResponse, as the Functions worker does. */
function toHttpResponse(result: HttpResponse | HttpResponseInit | undefined): HttpResponse {
  return result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
}

async function writeResponse(res: http.ServerResponse, response: HttpResponse): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const headers: http.OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    // framing is this server's business: the handler's length or encoding may not match what is sent
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'set-cookie') headers[name] = value;
  });
  const cookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-length'] = body.byteLength;
  res.writeHead(response.status, headers);
  res.end(body);
}

function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's x-request-id when well formed (as the functions do), else a fresh one. */
function hostRequestId(req: http.IncomingMessage): string {
  const supplied = req.headers['x-request-id'];
  return typeof supplied === 'string' && REQUEST_ID.test(supplied) ? supplied : randomUUID();
}

/** The host's own answers (no function matched) have the functions' problem shape: `code` and `requestId` included. */
function sendProblem(res: http.ServerResponse, status: number, code: string, detail: string, requestId: string): void {
  const response = problem(status, code, detail, requestId);
  const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  res.writeHead(status, { ...(response.headers as Record<string, string>), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

