/**
 * The development host: serves the functions registered through
 * shared/functionRegistry.ts the way the Azure Functions host does, for machines
 * where Core Tools (`func start`) cannot be installed. Same definitions, same
 * routes, methods, schedules and queues; real @azure/functions request, response
 * and context objects.
 *
 * Deliberate differences from the Functions host (all harmless locally):
 * - authLevel is not enforced, exactly like `func start` (function keys only apply in Azure);
 * - route constraints (`{id:alpha}`) are ignored: every parameter matches one path segment;
 * - functionTimeout is not enforced;
 * - one process, so timers need no storage lock: "one run at a time" is an in-memory flag.
 *
 * `node dist/dev/host.js` runs it on its own (see main() below).
 */
import fs from 'node:fs';
import { listenOnLoopback } from './support/listen';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { format } from 'node:util';
import {
  HttpRequest,
  HttpResponse,
  InvocationContext,
  type Cookie,
  type HttpResponseInit,
  type LogLevel,
  type StorageQueueFunctionOptions,
  type Timer,
  type TimerFunctionOptions,
} from '@azure/functions';
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import { registeredFunctions, registeredStartHooks, type FunctionDefinition } from '../shared/functionRegistry';
import { describe } from '../shared/http/endpoint';
import { problem } from '../shared/http/problem';
import { localSettingsValues, portSetting, DEFAULT_PORTS, repoRoot } from './env';
import { parseNcrontab } from './ncrontab';

export interface DevHostOptions {
  /** 0 = a free port */
  port: number;
  /** function files to load, relative to the repo root; default: package.json `main` */
  functionsGlob?: string;
  /** set on process.env before any function file loads (the app reads its configuration on first use) */
  env?: Record<string, string>;
  /** the account the queue triggers poll */
  storageConnectionString: string;
  /** false disables timer triggers (tests); default true */
  runTimers?: boolean;
  /** shortest queue poll interval; an empty queue backs off from here to MAX_POLL_MS; default 100 */
  queuePollMs?: number;
  /** how long a received message stays invisible, renewed at half of it while its run continues; default 600 (tests shorten it) */
  visibilityTimeoutSeconds?: number;
  /** where log lines go; default stdout */
  log?: (line: string) => void;
  /**
   * Which registry to read the definitions from; default this module's own. Only needed when the
   * function files import a different copy of shared/functionRegistry (e.g. ts sources vs dist).
   */
  registry?: () => readonly FunctionDefinition[];
}

export interface DevHost {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Azure's request body limit is far larger; the app's own limit is smaller, so one byte over 1 MiB is enough for it to answer 413. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024 + 1;
const MAX_POLL_MS = 1000;
/** Messages stay invisible while a handler runs (the Functions host renews; functionTimeout is 10 min). */
const VISIBILITY_TIMEOUT_SECONDS = 600;
/** A timer run starting this late counts as past due (the process was busy or asleep). */
const PAST_DUE_MS = 1000;
/** setTimeout's ceiling; longer waits are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

type LogSink = (line: string) => void;
type HttpDefinition = Extract<FunctionDefinition, { kind: 'http' }>;
type TimerDefinition = Extract<FunctionDefinition, { kind: 'timer' }>;
type QueueDefinition = Extract<FunctionDefinition, { kind: 'storageQueue' }>;

interface Stoppable {
  stop(): Promise<void>;
}

// ------------------------------------------------------------------ start-up

export async function startDevHost(options: DevHostOptions): Promise<DevHost> {
  Object.assign(process.env, options.env ?? {});
  const root = repoRoot();
  const sink: LogSink = options.log ?? defaultSink;
  const settings = readHostSettings(root);
  const files = loadFunctionFiles(root, options.functionsGlob ?? packageMain(root), sink);
  // The platform's switch for one function: app setting AzureWebJobs.<name>.Disabled = true.
  const disabled = (name: string) => /^(true|1)$/i.test(process.env[`AzureWebJobs.${name}.Disabled`] ?? '');
  const definitions = (options.registry ?? registeredFunctions)().filter((def) => !disabled(def.name));
  hostLog(sink, 'information', `loaded ${files.length} function file(s), ${definitions.length} function(s)`);

  const started: Stoppable[] = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.splice(0).reverse()) await part.stop();
  };
  try {
    const server = await startHttpServer(options.port, compileRoutes(definitions, settings.routePrefix), sink);
    started.push(server);
    const queues = QueueServiceClient.fromConnectionString(options.storageConnectionString);
    for (const def of definitions.filter(isKind('storageQueue'))) {
      started.push(await startQueueTrigger(def, queues, { ...settings, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? VISIBILITY_TIMEOUT_SECONDS }, options.queuePollMs ?? 100, sink));
    }
    if (options.runTimers !== false) {
      for (const def of definitions.filter(isKind('timer'))) started.push(startTimerTrigger(def, sink));
    }
    // As the Functions host runs app.hook.appStart handlers once the app is loaded.
    for (const hook of registeredStartHooks()) {
      hook.run().catch((err: unknown) => hostLog(sink, 'error', `start-up hook ${hook.name} failed: ${err instanceof Error ? err.message : String(err)}`));
    }
    return { url: server.url, port: server.port, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function isKind<K extends FunctionDefinition['kind']>(kind: K) {
  return (def: FunctionDefinition): def is Extract<FunctionDefinition, { kind: K }> => def.kind === kind;
}

function packageMain(root: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main?: unknown };
  if (typeof pkg.main !== 'string') throw new Error('package.json has no "main" glob of function files');
  return pkg.main;
}

/**
 * Requires every file matching `dir/pattern` (a `*` wildcard in the file name only,
 * which is all package.json `main` uses), so each registers its functions.
 */
function loadFunctionFiles(root: string, glob: string, sink: LogSink): string[] {
  const files = matchGlob(root, glob);
  // Like the Functions host: no match is a warning, not an error.
  if (files.length === 0) hostLog(sink, 'warning', `no function files match "${glob}"`);
  withoutTestModeWarnings(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading files by path is the point: each registers its functions
    for (const file of files) require(file);
  });
  return files;
}

/**
 * Outside the Functions host, @azure/functions warns once per registration that it skips
 * it ("test mode"). Serving those registrations is this host's job, so the warnings are
 * expected and would bury the start-up output; every other warning passes through.
 */
const TEST_MODE_WARNING = /^WARNING: (Skipping call to register (function|appStart hook)|Failed to detect the Azure Functions runtime)/;

function withoutTestModeWarnings(load: () => void): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && TEST_MODE_WARNING.test(args[0]))) warn(...args);
  };
  try {
    load();
  } finally {
    console.warn = warn;
  }
}

export function matchGlob(root: string, glob: string): string[] {
  const dir = path.resolve(root, path.dirname(glob));
  if (dir.includes('*')) throw new Error(`unsupported glob "${glob}": wildcards are only supported in the file name`);
  const escaped = path.basename(glob).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  const pattern = new RegExp(`^${escaped}$`);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

interface HostSettings {
  routePrefix: string;
  messageEncoding: 'base64' | 'none';
  maxDequeueCount: number;
  batchSize: number;
  /** a new batch is fetched once this few messages of the last are still running (host default: batchSize / 2) */
  newBatchThreshold: number;
  visibilityTimeoutSeconds: number;
}

/** The parts of host.json this host honours, with the Functions host's defaults. */
function readHostSettings(root: string): HostSettings {
  const file = path.join(root, 'host.json');
  const json = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { extensions?: Record<string, Record<string, unknown>> }) : {};
  const httpSettings = json.extensions?.http ?? {};
  const queueSettings = json.extensions?.queues ?? {};
  const batchSize = Math.min(32, typeof queueSettings.batchSize === 'number' ? queueSettings.batchSize : 16);
  return {
    routePrefix: typeof httpSettings.routePrefix === 'string' ? httpSettings.routePrefix : 'api',
    messageEncoding: queueSettings.messageEncoding === 'none' ? 'none' : 'base64',
    maxDequeueCount: typeof queueSettings.maxDequeueCount === 'number' ? queueSettings.maxDequeueCount : 5,
    batchSize,
    newBatchThreshold: typeof queueSettings.newBatchThreshold === 'number' ? queueSettings.newBatchThreshold : Math.floor(batchSize / 2),
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
  };
}

/** `%NAME%` is an app setting, resolved from the environment as the Functions host does. */
export function resolveSettings(text: string, env: Record<string, string | undefined> = process.env): string {
  return text.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`app setting "${name}" (used as %${name}%) is not set`);
    return value;
  });
}

// ------------------------------------------------------------------ logging

const defaultSink: LogSink = (line) => process.stdout.write(`${line}\n`);

function hostLog(sink: LogSink, level: LogLevel, message: string): void {
  sink(`${new Date().toISOString()} ${level} [host] ${message}`);
}

/** One line per log call: newlines in messages are escaped so a log stays greppable. */
function invocationContext(sink: LogSink, functionName: string, extra: { triggerMetadata?: Record<string, unknown> } = {}): InvocationContext {
  const invocationId = randomUUID();
  return new InvocationContext({
    invocationId,
    functionName,
    triggerMetadata: extra.triggerMetadata,
    logHandler: (level, ...args) => sink(`${new Date().toISOString()} ${level} [${functionName}] (${invocationId}) ${format(...args).replace(/\r?\n/g, '\\n')}`),
  });
}

// ------------------------------------------------------------------ HTTP routing

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

function compileRoutes(definitions: readonly FunctionDefinition[], prefix: string): { prefix: string; routes: CompiledRoute[] } {
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

async function startHttpServer(
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

// ------------------------------------------------------------------ timer triggers

function startTimerTrigger(def: TimerDefinition, sink: LogSink): Stoppable {
  const options: TimerFunctionOptions = def.options;
  const schedule = parseNcrontab(resolveSettings(options.schedule));
  let running: Promise<void> | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastRun: Date | undefined;

  const fire = (scheduledFor: Date): void => {
    if (running) {
      // The Functions host never overlaps runs of one timer.
      hostLog(sink, 'warning', `timer ${def.name}: previous run still going, skipping ${scheduledFor.toISOString()}`);
      return;
    }
    const now = new Date();
    const timer: Timer = {
      isPastDue: now.getTime() - scheduledFor.getTime() > PAST_DUE_MS,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: (lastRun ?? now).toISOString(),
        next: schedule.next(now).toISOString(),
        lastUpdated: now.toISOString(),
      },
    };
    lastRun = now;
    running = invokeTimer(def, timer, sink).finally(() => {
      running = undefined;
    });
  };

  const armAt = (due: Date): void => {
    if (stopped) return;
    const wait = due.getTime() - Date.now();
    if (wait > MAX_TIMEOUT_MS) {
      timeout = setTimeout(() => armAt(due), MAX_TIMEOUT_MS);
      return;
    }
    timeout = setTimeout(() => {
      fire(due);
      // Missed occurrences are not replayed: the next one is counted from now.
      armAt(schedule.next(new Date(Math.max(due.getTime(), Date.now()))));
    }, Math.max(0, wait));
  };

  if (options.runOnStartup) fire(new Date());
  armAt(schedule.next(new Date()));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timeout);
      await running;
    },
  };
}

async function invokeTimer(def: TimerDefinition, timer: Timer, sink: LogSink): Promise<void> {
  const context = invocationContext(sink, def.name);
  try {
    await def.options.handler(timer, context);
  } catch (err) {
    // No retry, as on Azure: the next occurrence is the retry.
    context.error(`timer run failed: ${describe(err)}`);
  }
}

// ------------------------------------------------------------------ storage queue triggers

/**
 * Polls one queue as the Functions host does: up to batchSize messages at a time, handled
 * concurrently, and a new batch fetched as soon as only newBatchThreshold of them are still
 * running (a slow message never holds up the rest); a running message's invisibility is
 * renewed at half its timeout, so a long run is never delivered twice; delete on success,
 * visible again at once on failure, `<queue>-poison` after maxDequeueCount attempts. An
 * empty queue backs the interval off to MAX_POLL_MS. A queue that disappears (storage
 * restarted empty) is recreated.
 * The definition's `connection` names the app's storage setting, which locally is
 * the one account this host was given.
 */
async function startQueueTrigger(
  def: QueueDefinition,
  service: QueueServiceClient,
  settings: HostSettings,
  minPollMs: number,
  sink: LogSink,
): Promise<Stoppable> {
  const options: StorageQueueFunctionOptions = def.options;
  const queueName = resolveSettings(options.queueName);
  const queue = service.getQueueClient(queueName);
  await queue.createIfNotExists();
  const trigger: QueueTrigger = { def, queue, poison: service.getQueueClient(`${queueName}-poison`), settings, sink };
  const abort = new AbortController();
  const loop = pollLoop(trigger, minPollMs, abort.signal);
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

interface QueueTrigger {
  def: QueueDefinition;
  queue: QueueClient;
  poison: QueueClient;
  settings: HostSettings;
  sink: LogSink;
}

async function pollLoop(trigger: QueueTrigger, minPollMs: number, signal: AbortSignal): Promise<void> {
  const maxPollMs = Math.max(MAX_POLL_MS, minPollMs);
  const running = new Set<Promise<void>>();
  let delay = minPollMs;
  while (!signal.aborted) {
    if (running.size > trigger.settings.newBatchThreshold) {
      await Promise.race(running);
      continue;
    }
    const messages = await receive(trigger);
    for (const message of messages) {
      const run: Promise<void> = processMessage(trigger, message).finally(() => running.delete(run));
      running.add(run);
    }
    delay = messages.length > 0 ? 0 : Math.min(maxPollMs, Math.max(minPollMs, delay * 2));
    if (delay > 0) await sleep(delay, undefined, { signal }).catch(() => undefined);
  }
  await Promise.all(running);
}

async function receive(trigger: QueueTrigger): Promise<DequeuedMessageItem[]> {
  try {
    const response = await trigger.queue.receiveMessages({
      numberOfMessages: trigger.settings.batchSize,
      visibilityTimeout: trigger.settings.visibilityTimeoutSeconds,
    });
    return response.receivedMessageItems;
  } catch (err) {
    hostLog(trigger.sink, 'warning', `queue ${trigger.queue.name}: receive failed: ${describe(err)}`);
    if ((err as { statusCode?: number }).statusCode === 404) await trigger.queue.createIfNotExists().catch(() => undefined);
    return [];
  }
}

async function processMessage(trigger: QueueTrigger, message: DequeuedMessageItem): Promise<void> {
  const { queue, settings, sink } = trigger;
  // Each update answers a new pop receipt: the latest is the one that can delete the message.
  let popReceipt = message.popReceipt;
  let renewing = Promise.resolve();
  const renew = setInterval(() => {
    renewing = renewing.then(() =>
      queue.updateMessage(message.messageId, popReceipt, undefined, settings.visibilityTimeoutSeconds).then(
        (r) => {
          popReceipt = r.popReceipt ?? popReceipt;
        },
        (err: unknown) => hostLog(sink, 'warning', `queue ${queue.name}: keeping message ${message.messageId} invisible failed: ${describe(err)}`),
      ),
    );
  }, (settings.visibilityTimeoutSeconds * 1000) / 2);
  renew.unref();
  /** No renewal may race the settling call: it would change the pop receipt under it. */
  const stopRenewing = async () => {
    clearInterval(renew);
    await renewing;
  };
  try {
    // A message past its attempts (e.g. the host crashed mid-run) goes straight to poison.
    if (message.dequeueCount > settings.maxDequeueCount) {
      await stopRenewing();
      return await moveToPoison(trigger, { ...message, popReceipt });
    }
    const succeeded = await invokeQueueHandler(trigger, message);
    await stopRenewing();
    if (succeeded) await queue.deleteMessage(message.messageId, popReceipt);
    else if (message.dequeueCount >= settings.maxDequeueCount) await moveToPoison(trigger, { ...message, popReceipt });
    else await queue.updateMessage(message.messageId, popReceipt, undefined, 0);
  } catch (err) {
    // The message reappears after its visibility timeout; nothing is lost.
    hostLog(sink, 'warning', `queue ${queue.name}: settling message ${message.messageId} failed: ${describe(err)}`);
  } finally {
    clearInterval(renew);
  }
}

async function invokeQueueHandler(trigger: QueueTrigger, message: DequeuedMessageItem): Promise<boolean> {
  const context = invocationContext(trigger.sink, trigger.def.name, {
    triggerMetadata: {
      id: message.messageId,
      dequeueCount: message.dequeueCount,
      insertionTime: message.insertedOn.toISOString(),
      expirationTime: message.expiresOn.toISOString(),
      nextVisibleTime: message.nextVisibleOn.toISOString(),
      popReceipt: message.popReceipt,
    },
  });
  try {
    await trigger.def.options.handler(decodeMessage(message.messageText, trigger.settings.messageEncoding), context);
    return true;
  } catch (err) {
    context.error(`attempt ${message.dequeueCount} of ${trigger.settings.maxDequeueCount} failed: ${describe(err)}`);
    return false;
  }
}

/** JSON text arrives as the parsed value, anything else as the string, like the Functions host. */
export function decodeMessage(text: string, encoding: 'base64' | 'none'): unknown {
  const decoded = encoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}

async function moveToPoison(trigger: QueueTrigger, message: DequeuedMessageItem): Promise<void> {
  await trigger.poison.createIfNotExists();
  await trigger.poison.sendMessage(message.messageText);
  await trigger.queue.deleteMessage(message.messageId, message.popReceipt);
  hostLog(trigger.sink, 'warning', `queue ${trigger.queue.name}: message ${message.messageId} moved to ${trigger.poison.name} after ${message.dequeueCount} attempt(s)`);
}

// ------------------------------------------------------------------ CLI

/** `node dist/dev/host.js`: local.settings.json (or the sample) Values, the real environment winning. */
async function main(): Promise<void> {
  const defined = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const env = { ...localSettingsValues(), ...defined };
  const storageConnectionString = env.AzureWebJobsStorage;
  if (!storageConnectionString) throw new Error('AzureWebJobsStorage is not set (a storage connection string is needed for the queue triggers)');
  const host = await startDevHost({ port: portSetting(env, 'FUNCTIONS_PORT', DEFAULT_PORTS.FUNCTIONS_PORT), env, storageConnectionString });
  hostLog(defaultSink, 'information', `development host listening on ${host.url}/api`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    host.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        hostLog(defaultSink, 'error', `stop failed: ${describe(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    // Configuration errors name the bad setting; the message is the useful part.
    console.error(`development host failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
