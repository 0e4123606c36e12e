/**
 * `npm start` (the compiled dev/start.js) as a child process, for the tests that run it as a
 * newcomer would (test/integration/start.test.ts, test/api/done-means-documented.test.ts).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_PORTS, type PortName } from '../../dev/env';
import { freePort } from '../../dev/support/ports';
import { eventually } from './reconcile';

const root = path.resolve(__dirname, '../..');

/** The test process's environment without settings a newcomer would not have set. */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['VANTAGEPOINT_BASE_URL', 'GRAPH_BASE_URL', 'GRAPH_AUTHORITY_HOST', 'AzureWebJobsStorage']) delete env[name];
  return env;
}

/** `npm start` (the compiled dev/start.js) as a child process with this environment. */
export function npmStart(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(root, 'dist/dev/start.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function freePorts(): Promise<Record<PortName, number>> {
  const ports = {} as Record<PortName, number>;
  for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) ports[name] = await freePort();
  return ports;
}

const portsEnv = (ports: Record<PortName, number>) => Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));

/**
 * `npm start` on ports found free a moment before: another test process on this machine may take
 * one first (start.js then stops, naming it), and it is started again on other ports. Resolves
 * once the banner is out, when everything listens.
 */
export async function startOnFreePorts(extra: NodeJS.ProcessEnv = {}): Promise<ReturnType<typeof npmStart> & { ports: Record<PortName, number> }> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts();
    const started = npmStart({ ...cleanEnvironment(), ...portsEnv(ports), ...extra });
    let ended = false;
    void started.exited.then(() => (ended = true));
    const ready = await eventually('npm start prints its banner or stops', () =>
      Promise.resolve(started.output().includes('Connect Sync is running locally') ? true : ended ? false : undefined),
    ).catch((err: unknown) => {
      started.child.kill('SIGINT'); // never leave a half-started stack behind
      throw err;
    });
    if (ready) return { ...started, ports };
    if (attempt < 3 && /in use|EADDRINUSE/.test(started.output())) continue;
    throw new Error(`npm start stopped:\n${started.output()}`);
  }
}

