/**
 * `npm start` (after `npm run build`): the whole service on one machine with no
 * cloud account — Azurite, the Vantagepoint and Graph emulators, and the functions
 * under `func start` where Core Tools 4.x runs, otherwise under the development host.
 * Ctrl-C stops everything it started, in reverse order.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startGraphEmulator } from './emulators/graph/server';
import { parseLatency } from './emulators/graph/main';
import { startVantagepointEmulator } from './emulators/vantagepoint/server';
import {
  emulatorsToStart,
  LOCAL_SETTINGS,
  SAMPLE_SETTINGS,
  localSettingsValues,
  readSettingsFile,
  repoRoot,
  stackPorts,
  stackSettings,
  type PortName,
} from './env';
import { startDevHost } from './host';
import { startAzurite } from './support/azurite';
import { freePort } from './support/ports';

interface Part {
  name: string;
  stop(): Promise<void>;
}

interface FunctionsRuntime extends Part {
  /** resolves if the runtime ends on its own (func crashed); never for the in-process host */
  ended: Promise<string>;
}

type Env = Record<string, string>;

async function main(): Promise<void> {
  const root = repoRoot();
  const env = definedEnvironment();
  const ports = stackPorts(env);
  const emulators = emulatorsToStart(env);
  const parts: Part[] = [];
  const stopAll = () => stopInReverse(parts);
  try {
    await assertPortsFree(ports, emulators);
    const azurite = await startAzurite({ tablePort: ports.AZURITE_TABLE_PORT, queuePort: ports.AZURITE_QUEUE_PORT });
    parts.push({ name: 'Azurite', stop: () => azurite.stop() });
    let vantagepointUrl: string | undefined;
    if (emulators.vantagepoint) {
      const vantagepoint = await startVantagepointEmulator({ port: ports.VANTAGEPOINT_EMULATOR_PORT });
      parts.push({ name: 'Vantagepoint emulator', stop: () => vantagepoint.stop() });
      vantagepointUrl = vantagepoint.url;
    }
    let graphUrl: string | undefined;
    if (emulators.graph) {
      const graph = await startGraphEmulator({ port: ports.GRAPH_EMULATOR_PORT, allowHttpNotificationUrls: true, faults: { latencyMs: parseLatency(env.GRAPH_EMULATOR_LATENCY_MS) } });
      parts.push({ name: 'Graph emulator', stop: () => graph.stop() });
      graphUrl = graph.url;
    }
    // The notification URL names the functions' port, so "any port" must be settled first.
    const functionsPort = ports.FUNCTIONS_PORT || (await freePort());
    const settings = stackSettings({ storageConnectionString: azurite.connectionString, vantagepointUrl, graphUrl, functionsPort });
    const functions = await startFunctions(root, env, settings, functionsPort);
    parts.push(functions);
    printBanner({
      functions: functions.name,
      functionsPort,
      vantagepoint: vantagepointUrl ? `${vantagepointUrl}/api   (emulator: admin/admin, jdoe/jdoe, noemail/noemail)` : `${env.VANTAGEPOINT_BASE_URL}/api   (yours: VANTAGEPOINT_BASE_URL)`,
      graph: graphUrl ? `${graphUrl}/v1.0   (emulator)` : `${env.GRAPH_BASE_URL}   (GRAPH_BASE_URL)`,
      ...azurite,
    });
    void functions.ended.then((reason) => fail(`${functions.name} stopped: ${reason}`, stopAll));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err), stopAll);
  }
  onSignals(stopAll);
}

function definedEnvironment(): Env {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A taken fixed port would otherwise be "ready" at once, served by whatever already holds it. */
async function assertPortsFree(ports: Record<PortName, number>, emulators: { vantagepoint: boolean; graph: boolean }): Promise<void> {
  const unused: string[] = [...(emulators.vantagepoint ? [] : ['VANTAGEPOINT_EMULATOR_PORT']), ...(emulators.graph ? [] : ['GRAPH_EMULATOR_PORT'])];
  for (const [name, port] of Object.entries(ports)) {
    if (unused.includes(name)) continue;
    if (port !== 0 && !(await portIsFree(port))) throw new Error(`${name} ${port} is in use; stop what holds it or set ${name} to another port (0 = any free port)`);
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function startFunctions(root: string, env: Env, settings: Env, port: number): Promise<FunctionsRuntime> {
  const func = coreTools(root);
  if (func) {
    writeLocalSettings(root, settings);
    return startFuncStart(root, func, port);
  }
  console.log('Azure Functions Core Tools 4.x not found (it needs Node.js 22 and its download site): using the development host.');
  // Same precedence as Core Tools: the settings file, then this stack's ports, then the real environment.
  const merged = { ...localSettingsValues(root), ...settings, ...env };
  const storageConnectionString = merged.AzureWebJobsStorage ?? '';
  const host = await startDevHost({ port, env: merged, storageConnectionString });
  return { name: 'development host', stop: () => host.stop(), ended: new Promise<string>(() => undefined) };
}

/** The `func` executable when it runs and reports 4.x: the project's optional dependency first, then PATH. */
function coreTools(root: string): string | undefined {
  const exe = process.platform === 'win32' ? 'func.cmd' : 'func';
  for (const candidate of [path.join(root, 'node_modules', '.bin', exe), exe]) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 15_000, shell: process.platform === 'win32' });
    if (probe.status === 0 && /^4\./.test(probe.stdout.trim())) return candidate;
  }
  return undefined;
}

/** Fills only this stack's settings into local.settings.json (created from the sample), keeping the developer's others. */
function writeLocalSettings(root: string, settings: Env): void {
  const file = path.join(root, LOCAL_SETTINGS);
  const current = readSettingsFile(fs.existsSync(file) ? file : path.join(root, SAMPLE_SETTINGS));
  const updated = { ...current, Values: { ...(current.Values ?? {}), ...settings } };
  fs.writeFileSync(file, `${JSON.stringify(updated, null, 2)}\n`);
}

function startFuncStart(root: string, func: string, port: number): FunctionsRuntime {
  const child: ChildProcess = spawn(func, ['start', '--port', String(port)], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (err) => resolve(err.message));
  });
  return {
    name: 'func start',
    ended: exited.then((reason) => (stopping ? new Promise<string>(() => undefined) : reason)),
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

async function stopInReverse(parts: Part[]): Promise<boolean> {
  let clean = true;
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
    } catch (err) {
      clean = false;
      console.error(`stopping ${part.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  parts.length = 0;
  return clean;
}

async function fail(reason: string, stopAll: () => Promise<boolean>): Promise<void> {
  console.error(`npm start failed: ${reason}`);
  await stopAll();
  process.exit(1);
}

function onSignals(stopAll: () => Promise<boolean>): void {
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    void stopAll().then((clean) => process.exit(clean ? 0 : 1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function printBanner(s: { functions: string; functionsPort: number; vantagepoint: string; graph: string; tablePort: number; queuePort: number }): void {
  console.log(
    [
      '',
      'Connect Sync is running locally:',
      `  Admin page              http://127.0.0.1:${s.functionsPort}/api/connect-admin/   (sign in as admin/admin)`,
      `  API (${s.functions})  http://127.0.0.1:${s.functionsPort}/api`,
      `  Vantagepoint            ${s.vantagepoint}`,
      `  Microsoft Graph         ${s.graph}`,
      `  Azurite                 tables :${s.tablePort}, queues :${s.queuePort}`,
      '',
      'First, sign in as an administrator (the answer\'s "token" goes in Authorization: Bearer):',
      `  curl -s -X POST http://127.0.0.1:${s.functionsPort}/api/session -H 'content-type: application/json' -d '{"username":"admin","password":"admin"}'`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
