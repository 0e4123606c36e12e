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
import { eventually } from '../support/reconcile';

const root = path.resolve(__dirname, '../..');

/** The test process's environment without settings a newcomer would not have set. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['VANTAGEPOINT_BASE_URL', 'GRAPH_BASE_URL', 'GRAPH_AUTHORITY_HOST', 'AzureWebJobsStorage']) delete env[name];
  return env;
}

/** `npm start` (the compiled dev/start.js) as a child process with this environment. */
function npmStart(env: NodeJS.ProcessEnv) {
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
async function startOnFreePorts(extra: NodeJS.ProcessEnv = {}): Promise<ReturnType<typeof npmStart> & { ports: Record<PortName, number> }> {
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

async function refuses(port: number): Promise<boolean> {
  try {
    await waitForPort(port, 1);
    return false;
  } catch {
    return true;
  }
}

it('starts Azurite, both emulators and the functions, and stops them all on SIGINT', async () => {
  const { child, exited, output, ports } = await startOnFreePorts();
  try {
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
  expect(output()).toContain('Connect Sync is running locally');
});

it('starts no Vantagepoint or Graph emulator when their base URLs are in the environment, and uses those servers', async () => {
  const vantagepoint = await startVantagepointEmulator({ port: 0 });
  const graph = await startGraphEmulator({ port: 0 });
  const { child, exited, output, ports } = await startOnFreePorts({ VANTAGEPOINT_BASE_URL: vantagepoint.url, GRAPH_BASE_URL: `${graph.url}/v1.0`, GRAPH_AUTHORITY_HOST: graph.url });
  try {
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
  expect(output()).toContain(`${vantagepoint.url}/api   (yours: VANTAGEPOINT_BASE_URL)`);
});

/**
 * The "Done means" (issue 11), as a new user would do it with `npm start`: put an address
 * in the notification list, enable a group holding a member whose mailbox access is forbidden
 * (E0227 in the emulator's seed); the member is suspended and the Graph emulator's
 * GET /emulator/mail shows one email to them and one to the address, with no repeat.
 */
it('Done means: a member whose mailbox is forbidden is suspended, and GET /emulator/mail shows one email to them and one to the listed address', async () => {
  const started = await startOnFreePorts();
  const { ports } = started;
  const base = `http://127.0.0.1:${ports.FUNCTIONS_PORT}/api`;
  const graph = `http://127.0.0.1:${ports.GRAPH_EMULATOR_PORT}`;
  try {
    const signIn = await fetch(`${base}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin' }) });
    const { token } = (await signIn.json()) as { token: string };
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${base}/${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
      return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
    };
    const mail = async () => ((await (await fetch(`${graph}/emulator/mail`)).json()) as { value: Array<{ from: string; to: string[]; subject: string; body: string }> }).value;

    // 1. an address in the notification list
    expect((await call('PUT', 'connect/settings', { notificationEmails: ['connect-admins@contoso.test'] })).status).toBe(200);
    // 2. a group holding a member whose mailbox access is forbidden, enabled
    expect((await call('POST', 'groups', { id: 'done-means', name: 'Done means', mailboxAccess: 'office365' })).status).toBe(201);
    expect((await call('POST', 'groups/done-means/members', { employeeIds: ['E0227', 'E0010'] })).status).toBe(200);
    expect((await call('PUT', 'groups/done-means/sync', { enabled: true })).status).toBe(200);
    // 3. suspended, one email to them and one to the address
    const sent = await eventually('two notification emails', async () => {
      const all = await mail();
      return all.length >= 2 ? all : undefined;
    });
    expect((await call('GET', 'users/E0227/sync')).body).toMatchObject({ status: 'suspended', reason: 'MAILBOX_ACCESS_DENIED' });
    expect(sent.map((m) => m.to).sort()).toEqual([['connect-admins@contoso.test'], ['forbidden-chloe.jensen@contoso.test']]);
    expect(sent.find((m) => m.to[0] === 'connect-admins@contoso.test')?.body).toMatch(/E0227[\s\S]*POST \/api\/users\/E0227\/sync\/force/);

    // no repeat: another pass of the group (adding a member nudges one) sees the same suspension
    expect((await call('POST', 'groups/done-means/members', { employeeIds: ['E0011'] })).status).toBe(200);
    await eventually('E0011 active after the next pass', async () => ((await call('GET', 'users/E0011/sync')).body.status === 'active' ? true : undefined));
    expect(await mail()).toHaveLength(2);
  } finally {
    started.child.kill('SIGINT');
  }
  expect(await started.exited).toBe(0);
}, 90_000);
