/**
 * `npm start` as a newcomer runs it: the whole local stack comes up, serves the API, and
 * Ctrl-C stops everything it started (every port free again, exit code 0).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_PORTS, type PortName } from '../../dev/env';
import { freePort, waitForPort } from '../../dev/support/ports';

const root = path.resolve(__dirname, '../..');

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
  const env = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
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
