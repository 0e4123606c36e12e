/**
 * What both benchmarks share: the local stack (Azurite, both emulators, the
 * development host in-process serving only the HTTP functions), synthetic members,
 * latency statistics, memory sampling and a hard time bound.
 * Benchmarks print figures; they never assert on time.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot, sampleSettingsValues, stackSettings } from '../dev/env';
import { startGraphEmulator } from '../dev/emulators/graph/server';
import { startVantagepointEmulator, type VantagepointEmulator } from '../dev/emulators/vantagepoint/server';
import { startDevHost } from '../dev/host';
import { startAzurite, type AzuriteHandle } from '../dev/support/azurite';
import { freePort, waitForPort } from '../dev/support/ports';
import { createStorage, type Storage } from '../shared/adapters/tables';
import { MEMBER_PREREQUISITES, type Member, type MemberPrerequisiteCode } from '../shared/domain/model';
import { registeredFunctions } from '../shared/functionRegistry';

export interface BenchStack {
  azurite: AzuriteHandle;
  vantagepoint: VantagepointEmulator;
  /** the Graph emulator's base URL (control routes under /emulator) */
  graphUrl: string;
  /** e.g. http://127.0.0.1:PORT/api */
  apiUrl: string;
  /** the settings the functions run with (also on process.env) */
  env: Record<string, string>;
  /** the same tables and queues the functions use */
  storage: Storage;
  stop(): Promise<void>;
}

export const HTTP_ONLY_NOTE =
  'The development host serves only the HTTP functions (no queue or timer triggers), so reconciliation work does not compete with the measurement.';

/**
 * Starts Azurite, the Vantagepoint and Graph emulators and the development host in
 * this process, serving only the HTTP functions: queue messages the API sends pile up
 * unread, which is what keeps background work out of a latency measurement.
 */
export async function startBenchStack(options: { graphUrl?: string; env?: Record<string, string> } = {}): Promise<BenchStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const part of stops.splice(0).reverse()) await part().catch((err: unknown) => console.error(`stop failed: ${String(err)}`));
  };
  try {
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const vantagepoint = await startVantagepointEmulator({ port: 0 });
    stops.push(() => vantagepoint.stop());
    const graphUrl = options.graphUrl ?? (await inProcessGraph(stops));
    const functionsPort = await freePort();
    const env = {
      ...sampleSettingsValues(),
      ...stackSettings({ storageConnectionString: azurite.connectionString, vantagepointUrl: vantagepoint.url, graphUrl, functionsPort }),
      ...options.env,
    };
    const host = await startDevHost({
      port: functionsPort,
      env,
      storageConnectionString: azurite.connectionString,
      runTimers: false,
      registry: () => registeredFunctions().filter((def) => def.kind === 'http'),
      // per-request log lines would cost more than some of the requests measured
      log: () => undefined,
    });
    stops.push(() => host.stop());
    const storage = createStorage({ connectionString: azurite.connectionString });
    await storage.ensureReady();
    apiUrlByVantagepoint.set(vantagepoint.url, `${host.url}/api`);
    stops.push(async () => {
      apiUrlByVantagepoint.delete(vantagepoint.url);
    });
    return { azurite, vantagepoint, graphUrl, apiUrl: `${host.url}/api`, env, storage, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function inProcessGraph(stops: Array<() => Promise<void>>): Promise<string> {
  const graph = await startGraphEmulator({ port: 0, allowHttpNotificationUrls: true });
  stops.push(() => graph.stop());
  return graph.url;
}

/**
 * The Graph emulator as its own process (dev/emulators/graph/main.ts), steered over its
 * /emulator control routes. Kept out of the benchmark's process so that its memory (it
 * holds every subscription) does not count as the reconciler's.
 */
export async function startGraphProcess(latency: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const script = path.join(repoRoot(), 'dist', 'dev', 'emulators', 'graph', 'main.js');
  const child = spawn(process.execPath, [script, '--allow-http-notification-urls'], {
    env: { ...process.env, GRAPH_EMULATOR_PORT: String(port), GRAPH_EMULATOR_LATENCY_MS: latency },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForPort(port);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

/** The functions' API of each running bench stack, by its Vantagepoint emulator's URL. */
const apiUrlByVantagepoint = new Map<string, string>();

/**
 * A service session token for the emulator's seeded administrator, signed in through
 * `POST /api/session` of the bench stack that uses this Vantagepoint emulator (or of the API
 * URL given directly).
 */
export async function adminToken(vantagepointOrApiUrl: string): Promise<string> {
  const apiUrl = apiUrlByVantagepoint.get(vantagepointOrApiUrl) ?? vantagepointOrApiUrl;
  const res = await fetch(`${apiUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin' }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || !body.token) throw new Error(`signing in as admin at ${apiUrl} answered ${res.status}`);
  return body.token;
}

// ------------------------------------------------------------------ synthetic groups

/** Every fifth member fails one prerequisite, in turn, so summaries and issue indexes hold real data. */
function prerequisiteFor(index: number): MemberPrerequisiteCode | null {
  if (index % 5 !== 4) return null;
  return MEMBER_PREREQUISITES[Math.floor(index / 5) % MEMBER_PREREQUISITES.length] ?? null;
}

export function syntheticMembers(groupId: string, count: number): Member[] {
  const at = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const employeeId = `${groupId}-${String(i).padStart(5, '0')}`;
    const prerequisite = prerequisiteFor(i);
    return {
      groupId,
      employeeId,
      name: `Bench Member ${i}`,
      email: `${employeeId}@bench.example.com`,
      prerequisite,
      prerequisiteMessage: prerequisite ? `synthetic ${prerequisite}` : '',
      checkedAt: at,
      addedAt: at,
      addedBy: 'bench',
    };
  });
}

/** Members eligible for subscriptions (passing every prerequisite) among `count` synthetic ones. */
export function eligibleCount(count: number): number {
  return syntheticMembers('x', count).filter((m) => m.prerequisite === null).length;
}

const SEED_CHUNK = 1000;

/** Creates a disabled group and writes its members straight into Table Storage through the member store. */
export async function seedGroup(storage: Storage, groupId: string, size: number): Promise<void> {
  const at = new Date().toISOString();
  await storage.groups.create({
    id: groupId,
    name: `Benchmark ${groupId}`,
    description: `${size} synthetic members`,
    mailboxAccess: 'office365',
    sync: 'disabled',
    syncChangedAt: at,
    createdAt: at,
    updatedAt: at,
    updatedBy: 'bench',
  });
  const members = syntheticMembers(groupId, size);
  for (let start = 0; start < members.length; start += SEED_CHUNK) {
    await storage.members.add(groupId, members.slice(start, start + SEED_CHUNK), { move: false });
  }
}

// ------------------------------------------------------------------ statistics

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(ascending: readonly number[], p: number): number {
  if (ascending.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * ascending.length);
  return ascending[Math.min(ascending.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

export const ms = (value: number): string => `${value.toFixed(1)} ms`;
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Runs `call` and returns its wall-clock duration in ms. */
export async function timed(call: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

export interface MemoryPeak {
  rss: number;
  heapUsed: number;
}

/** Samples process memory on an interval; stop() returns the peaks seen. */
export function sampleMemory(intervalMs = 250): { stop(): MemoryPeak } {
  const peak: MemoryPeak = { rss: 0, heapUsed: 0 };
  const take = (): void => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { ...peak };
    },
  };
}

// ------------------------------------------------------------------ running

/**
 * Runs a benchmark with a hard time bound: whatever happens, what was started is
 * stopped and the process exits (0 on success) — a benchmark never hangs a terminal or CI.
 */
export function runBenchmark(name: string, limitMs: number, body: (onStop: (stop: () => Promise<void>) => void) => Promise<void>): void {
  let cleanup: (() => Promise<void>) | undefined;
  const finish = async (code: number): Promise<never> => {
    const hard = setTimeout(() => process.exit(code || 1), 15_000);
    hard.unref();
    await cleanup?.().catch(() => undefined);
    process.exit(code);
  };
  const guard = setTimeout(() => {
    console.error(`${name}: stopped after its ${Math.round(limitMs / 60_000)} min time limit`);
    void finish(2);
  }, limitMs);
  guard.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void finish(130));
  body((stop) => {
    cleanup = stop;
  }).then(
    () => finish(0),
    (err: unknown) => {
      console.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return finish(1);
    },
  );
}

/** The value of `--name value` or `--name=value` on the command line. */
export function flag(name: string, argv: readonly string[] = process.argv.slice(2)): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** A comma-separated list of positive integers, e.g. "10,1000,10000". */
export function intList(text: string, what: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`${what}: expected positive integers separated by commas, got "${text}"`);
  return values;
}
