import fs from 'node:fs';
import path from 'node:path';

/**
 * Settings shared by `npm start` (dev/start.ts), the development host's CLI
 * (dev/host.ts) and the black-box test stack (test/support/stack.ts), so the three
 * wire the functions to Azurite and the emulators the same way.
 */

/** The nearest ancestor holding package.json: the repo root from dev/ (ts) and dist/dev/ (js) alike. */
export function repoRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const LOCAL_SETTINGS = 'local.settings.json';
export const SAMPLE_SETTINGS = 'local.settings.sample.json';

export interface LocalSettingsFile {
  IsEncrypted?: boolean;
  Values?: Record<string, string>;
  Host?: Record<string, unknown>;
  [other: string]: unknown;
}

export function readSettingsFile(file: string): LocalSettingsFile {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: not a JSON object`);
  return parsed as LocalSettingsFile;
}

/** local.settings.json's Values, or the sample's when the developer has not made one (as Core Tools reads them). */
export function localSettingsValues(root: string = repoRoot()): Record<string, string> {
  const own = path.join(root, LOCAL_SETTINGS);
  const file = fs.existsSync(own) ? own : path.join(root, SAMPLE_SETTINGS);
  return { ...(readSettingsFile(file).Values ?? {}) };
}

/** The sample's Values: every setting the app reads, with development defaults. */
export function sampleSettingsValues(root: string = repoRoot()): Record<string, string> {
  return { ...(readSettingsFile(path.join(root, SAMPLE_SETTINGS)).Values ?? {}) };
}

/** Where the parts of a local stack listen. */
export interface StackEndpoints {
  storageConnectionString: string;
  /** e.g. http://127.0.0.1:7072 (the API is under /api); undefined when a real Vantagepoint is used */
  vantagepointUrl: string | undefined;
  /** e.g. http://127.0.0.1:7073 (Graph under /v1.0, tokens under /{tenant}/oauth2/v2.0/token); undefined for real Graph */
  graphUrl: string | undefined;
  functionsPort: number;
}

/**
 * The settings that depend on where the stack listens; everything else comes from the settings
 * file (and the environment, which overrides both). An emulator that was not started contributes
 * nothing, so the settings for the real service come from the environment.
 */
export function stackSettings(endpoints: StackEndpoints): Record<string, string> {
  return {
    AzureWebJobsStorage: endpoints.storageConnectionString,
    ...(endpoints.vantagepointUrl ? { VANTAGEPOINT_BASE_URL: endpoints.vantagepointUrl } : {}),
    ...(endpoints.graphUrl ? { GRAPH_BASE_URL: `${endpoints.graphUrl}/v1.0`, GRAPH_AUTHORITY_HOST: endpoints.graphUrl } : {}),
    GRAPH_NOTIFICATION_URL: `http://127.0.0.1:${endpoints.functionsPort}/api/notifications/graph`,
  };
}

/**
 * The emulators `npm start` runs: none for a service whose base URL the environment names
 * (VANTAGEPOINT_BASE_URL → your own Vantagepoint; GRAPH_BASE_URL → Microsoft Graph).
 */
export function emulatorsToStart(env: Record<string, string | undefined>): { vantagepoint: boolean; graph: boolean } {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  return { vantagepoint: !set('VANTAGEPOINT_BASE_URL'), graph: !set('GRAPH_BASE_URL') };
}

/** A TCP port from the environment (0 = any free port), or the default; anything else is a start-up error. */
export function portSetting(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number (0-65535), got "${text}"`);
  return port;
}

export const DEFAULT_PORTS = {
  FUNCTIONS_PORT: 7071,
  VANTAGEPOINT_EMULATOR_PORT: 7072,
  GRAPH_EMULATOR_PORT: 7073,
  AZURITE_QUEUE_PORT: 10001,
  AZURITE_TABLE_PORT: 10002,
} as const;

export type PortName = keyof typeof DEFAULT_PORTS;

export function stackPorts(env: Record<string, string | undefined>): Record<PortName, number> {
  const ports = {} as Record<PortName, number>;
  for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) ports[name] = portSetting(env, name, DEFAULT_PORTS[name]);
  return ports;
}
