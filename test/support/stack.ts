import { sampleSettingsValues, stackSettings } from '../../dev/env';
import { startHostProcess, waitUntilHealthy } from '../../dev/support/hostProcess';
import { startGraphEmulator, type GraphEmulator } from '../../dev/emulators/graph/server';
import { startVantagepointEmulator, type VantagepointEmulator, type VantagepointEmulatorOptions } from '../../dev/emulators/vantagepoint/server';
import { freePort } from '../../dev/support/ports';
import { startAzurite, type AzuriteHandle } from '../../dev/support/azurite';
import { JoseSessionSigner } from '../../shared/adapters/session/signer';
import type { SecretSource } from '../../shared/ports';

/**
 * The whole service for black-box API tests: the run's Azurite, both emulators in
 * this process (so tests can steer them: rotate secrets, inject faults) and the
 * compiled development host as a child process, exactly as `npm start` runs it.
 * Requires `npm run build` first (`npm test` does it).
 */
export interface Stack {
  /** e.g. http://127.0.0.1:PORT/api */
  baseUrl: string;
  vantagepoint: VantagepointEmulator;
  graph: GraphEmulator;
  /** the settings the functions run with */
  env: Record<string, string>;
  /** the host's stdout and stderr, to read when a test fails */
  logFile: string;
  /** stops the stack's Azurite (in memory: its data is gone), the functions keep running */
  stopStorage(): Promise<void>;
  /** starts an empty Azurite again on the same ports */
  startStorage(): Promise<void>;
  stop(): Promise<void>;
}


export async function startStack(overrides: Record<string, string> = {}, options: { vantagepoint?: VantagepointEmulatorOptions } = {}): Promise<Stack> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    // A stack of its own storage: its host's queue trigger must never pick up another stack's work.
    let azurite: AzuriteHandle | null = await startAzurite();
    const { tablePort, queuePort } = azurite;
    stops.push(() => azurite?.stop() ?? Promise.resolve());
    const storage = azurite.connectionString;
    const vantagepoint = await startVantagepointEmulator({ ...options.vantagepoint, port: 0 });
    stops.push(() => vantagepoint.stop());
    const graph = await startGraphEmulator({ port: 0, allowHttpNotificationUrls: true });
    stops.push(() => graph.stop());
    const functionsPort = await freePort();
    const env = {
      ...sampleSettingsValues(),
      ...stackSettings({ storageConnectionString: storage, vantagepointUrl: vantagepoint.url, graphUrl: graph.url, functionsPort }),
      FUNCTIONS_PORT: String(functionsPort),
      ...overrides,
    };
    const host = startHostProcess(env);
    stops.push(() => host.stop());
    const baseUrl = `http://127.0.0.1:${functionsPort}/api`;
    await waitUntilHealthy(baseUrl, host);
    const stopStorage = async () => {
      await azurite?.stop();
      azurite = null;
    };
    const startStorage = async () => {
      azurite ??= await startAzurite({ tablePort, queuePort });
    };
    return { baseUrl, vantagepoint, graph, env, logFile: host.logFile, stopStorage, startStorage, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * A service session token for `username`, obtained as a person signs in: `POST /api/session`
 * with Vantagepoint credentials (the emulator's seed: admin/admin).
 *
 * A user the caller check refuses (jdoe: 403 ADMIN_ROLE, noemail: 403 ADMIN_EMPLOYEE) gets no
 * session from the service; for them this mints one with the stack's own signing key, as if they
 * had signed in while still an administrator, so a test can show every admin route answering
 * that 403 (rights are re-checked on each call). A wrong password still throws.
 */
export async function adminToken(stack: Stack, username = 'admin', password = username): Promise<string> {
  try {
    return (await signInSession(stack.baseUrl, username, password)).token;
  } catch (err) {
    if (!(err instanceof SignInRefused && err.status === 403)) throw err;
    const keys = stack.env.SESSION_SIGNING_KEYS;
    if (!keys) throw err;
    const secrets: SecretSource = { kind: 'environment', get: async () => ({ value: keys, version: 'test', updatedOn: null }), refresh: async () => ({ value: keys, version: 'test', updatedOn: null }) };
    return (await new JoseSessionSigner(secrets, 'session-signing-keys', 60).issue(username, new Date())).token;
  }
}

class SignInRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `POST /api/session`; the whole 201 body (token, csrfToken, expiresAt, user) and the Set-Cookie header. */
export async function signInSession(
  baseUrl: string,
  username: string,
  password = username,
): Promise<{ token: string; csrfToken: string; expiresAt: string; cookie: string }> {
  const res = await fetch(`${baseUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new SignInRefused(res.status, `signing in as ${username} answered ${res.status}: ${text}`);
  const body = JSON.parse(text) as { token: string; csrfToken: string; expiresAt: string };
  return { ...body, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
}
