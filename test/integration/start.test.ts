/**
 * `npm start` as a newcomer runs it: the whole local stack comes up, serves the API, and
 * Ctrl-C stops everything it started (every port free again, exit code 0).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_PORTS, type PortName } from '../../dev/env';
import { startGraphEmulator } from '../../dev/emulators/graph/server';
import { startVantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { freePort, waitForPort } from '../../dev/support/ports';

const root = path.resolve(__dirname, '../..');

/** The test process's environment without settings a newcomer would not have set. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['VANTAGEPOINT_BASE_URL', 'GRAPH_BASE_URL', 'GRAPH_AUTHORITY_HOST', 'AzureWebJobsStorage']) delete env[name];
  return env;
}

async function refuses(port: number): Promise<boolean> {
  try {
    await waitForPort(port, 1);
    return false;
  } catch {
    return true;
  }
}

it('starts Azurite, both emulators and the functions, and stops them all on SIGINT', async () => {
  const ports = {} as Record<PortName, number>;
  for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) ports[name] = await freePort();
  const env = { ...cleanEnvironment(), ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const child = spawn(process.execPath, [path.join(root, 'dist/dev/start.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  try {
    await waitForPort(ports.FUNCTIONS_PORT, 30_000);
    const health = await fetch(`http://127.0.0.1:${ports.FUNCTIONS_PORT}/api/health`);
    expect(health.status).toBe(200);
    // as the banner and the README say: sign in, then use the session token
    const session = await fetch(`http://127.0.0.1:${ports.FUNCTIONS_PORT}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin' }),
    });
    expect(session.status).toBe(201);
    const { token } = (await session.json()) as { token: string };
    const groups = await fetch(`http://127.0.0.1:${ports.FUNCTIONS_PORT}/api/groups`, { headers: { authorization: `Bearer ${token}` } });
    expect(groups.status).toBe(200);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  for (const port of Object.values(ports)) expect(await refuses(port)).toBe(true);
  expect(output).toContain('Connect Sync is running locally');
});

it('starts no Vantagepoint or Graph emulator when their base URLs are in the environment, and uses those servers', async () => {
  const vantagepoint = await startVantagepointEmulator({ port: 0 });
  const graph = await startGraphEmulator({ port: 0 });
  const ports = {} as Record<PortName, number>;
  for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) ports[name] = await freePort();
  const env = {
    ...cleanEnvironment(),
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    VANTAGEPOINT_BASE_URL: vantagepoint.url,
    GRAPH_BASE_URL: `${graph.url}/v1.0`,
    GRAPH_AUTHORITY_HOST: graph.url,
  };
  const child = spawn(process.execPath, [path.join(root, 'dist/dev/start.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForPort(ports.FUNCTIONS_PORT, 30_000);
    expect(await refuses(ports.VANTAGEPOINT_EMULATOR_PORT)).toBe(true);
    expect(await refuses(ports.GRAPH_EMULATOR_PORT)).toBe(true);
    const session = await fetch(`http://127.0.0.1:${ports.FUNCTIONS_PORT}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin' }),
    });
    expect(session.status).toBe(201);
    expect(vantagepoint.grantCount('password')).toBeGreaterThanOrEqual(2); // the person's grant and the service account's
  } finally {
    child.kill('SIGINT');
    await exited;
    await vantagepoint.stop();
    await graph.stop();
  }
  expect(output).toContain(`${vantagepoint.url}/api   (yours: VANTAGEPOINT_BASE_URL)`);
});
