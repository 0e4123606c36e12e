import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ALL_ENDPOINTS } from '../../shared/api/endpoints';
import { sampleSettingsValues } from '../../dev/env';
import { matchGlob } from '../../dev/host';

/**
 * package.json `main` is the glob the Functions host loads; an empty or partial match
 * starts an app with missing functions and only a warning. `npm test` builds first.
 */
const root = path.resolve(__dirname, '../..');
const main = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string }).main;

describe('package.json main', () => {
  const sources = fs.readdirSync(path.join(root, 'functions')).filter((f) => f.endsWith('.ts'));

  it('matches the compiled file of every function source file, and nothing else', () => {
    const matched = matchGlob(root, main).map((f) => path.basename(f));
    expect(sources.length).toBeGreaterThan(0);
    expect(matched.sort()).toEqual(sources.map((f) => f.replace(/\.ts$/, '.js')).sort());
  });

  it('registers every endpoint of the contract plus the reconciler, outbox and data-sync triggers and the admin page', () => {
    Object.assign(process.env, sampleSettingsValues(root));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading compiled files is the point of this test
    for (const file of matchGlob(root, main)) require(file);
    // The compiled registry is a separate module instance from this TypeScript one.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled registry, not the TypeScript one
    const registry = require(path.join(root, 'dist/shared/functionRegistry.js')) as typeof import('../../shared/functionRegistry');
    const registered = registry.registeredFunctions();
    for (const endpoint of ALL_ENDPOINTS) {
      const def = registered.find((d) => d.name === endpoint.name);
      expect(def).toBeDefined();
      if (def?.kind !== 'http') throw new Error(`${endpoint.name} is not an http function`);
      expect(def.options.route).toBe(endpoint.route);
      expect(def.options.methods).toEqual([endpoint.method]);
      // admin routes are guarded by the service's own sessions or form key (a browser page cannot hold a function key)
      expect(def.options.authLevel).toBe('anonymous');
    }
    expect(registered.filter((d) => d.kind === 'storageQueue').map((d) => d.name).sort()).toEqual(['data-sync', 'graph-deliveries', 'notification-queue', 'reconcile-queue']);
    expect(registered.filter((d) => d.kind === 'timer').map((d) => d.name).sort()).toEqual(['orphan-repair-timer', 'reconcile-timer']);
    // The admin page's static files are the one HTTP function outside the JSON API contract.
    const page = registered.find((d) => d.name === 'admin-page');
    expect(page?.kind === 'http' && page.options).toMatchObject({ route: 'connect-admin/{*path}', methods: ['GET', 'HEAD'], authLevel: 'anonymous' });
    expect(registered.filter((d) => d.kind === 'http')).toHaveLength(ALL_ENDPOINTS.length + 1);
  });
});

describe('start-up with a bad setting', () => {
  it('stops loading the functions with a message naming the setting', () => {
    const env = { ...process.env, ...sampleSettingsValues(root), VANTAGEPOINT_BASE_URL: 'not a url', GRAPH_RESOURCES: 'events,calendars' };
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(root, 'dist/functions/groups.js'))})`], { env, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('VANTAGEPOINT_BASE_URL');
    expect(run.stderr).toContain('GRAPH_RESOURCES');
  });
});
