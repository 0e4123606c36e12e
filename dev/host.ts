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
 * This file starts the parts (hostHttp.ts: routes and requests; hostTriggers.ts: timers and
 * queues; hostSupport.ts: what they share). `node dist/dev/host.js` runs it on its own (main()).
 */
import fs from 'node:fs';
import path from 'node:path';
import { registeredFunctions, registeredStartHooks, type FunctionDefinition } from '../shared/functionRegistry';
import { describe } from '../shared/http/endpoint';
import { localSettingsValues, portSetting, DEFAULT_PORTS, repoRoot } from './env';
import { compileRoutes, startHttpServer } from './hostHttp';
import { QueueServiceClient } from '@azure/storage-queue';
import { defaultSink, hostLog, isKind, readHostSettings, VISIBILITY_TIMEOUT_SECONDS, type DevHost, type LogSink, type Stoppable } from './hostSupport';
import { startQueueTrigger, startTimerTrigger } from './hostTriggers';

export type { DevHost } from './hostSupport';
export { MAX_REQUEST_BODY_BYTES } from './hostHttp';
export { decodeMessage } from './hostTriggers';
export { resolveSettings } from './hostSupport';

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
