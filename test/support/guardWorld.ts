import { GRAPH_EMULATOR_DEFAULTS } from '../../dev/emulators/graph/server';
import defaultSeed from '../../dev/emulators/vantagepoint/seed.json';
import { startVantagepointEmulator, type VantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { createMailer } from '../../shared/adapters/graph';
import { createSecretSource } from '../../shared/adapters/secrets';
import { createVantagepointDirectory } from '../../shared/adapters/vantagepoint';
import type { Config } from '../../shared/config';
import type { Mailer, VantagepointDirectory } from '../../shared/ports';
import { startHarness, type Harness } from './reconcile';

/** What the mass-removal guard's tests run on: the reconcile harness, Vantagepoint answering in several ways, and the Graph mailer. */
export interface GuardWorld {
  h: Harness;
  /** one directory per answer asked for, in order: each a Vantagepoint emulator whose user list lost those employees */
  directories: VantagepointDirectory[];
  mailer: Mailer;
  stop(): Promise<void>;
}

const secretsEnv = { VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret', VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service', GRAPH_CLIENT_SECRET: GRAPH_EMULATOR_DEFAULTS.clientSecret };

/**
 * Starts one Vantagepoint emulator per answer (`dropped[i]`: employees whose user record that
 * answer leaves out; the first is the harness's own Vantagepoint) and a harness whose
 * notification list is ops@contoso.test with the default threshold (20 %, at least 10).
 */
export async function startGuardWorld(dropped: Array<ReadonlySet<string>>): Promise<GuardWorld> {
  const emulators: VantagepointEmulator[] = [];
  for (const drop of dropped) {
    emulators.push(await startVantagepointEmulator({ port: 0, seed: { ...defaultSeed, users: defaultSeed.users.filter((u) => !drop.has(u.Employee)) } }));
  }
  const h = await startHarness({
    settings: {
      VANTAGEPOINT_BASE_URL: emulators[0]?.url ?? '',
      VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
      VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
      VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
      GRAPH_RESOURCES: 'events',
      GRAPH_WRITE_LIMIT: '2000',
      NOTIFICATION_SENDER: 'connect-notifications@contoso.test',
    },
  });
  const directoryOn = (url: string) => {
    const config: Config = { ...h.config, VANTAGEPOINT_BASE_URL: url };
    return createVantagepointDirectory(config, createSecretSource(config, { env: secretsEnv }));
  };
  const mailer = createMailer(h.config, createSecretSource(h.config, { env: secretsEnv })) as Mailer;
  await h.storage.settings.save({ notificationEmails: ['ops@contoso.test'], massRemovalGuard: { percent: 20, minimum: 10 }, updatedAt: null, updatedBy: null }, null);
  return {
    h,
    directories: emulators.map((e) => directoryOn(e.url)),
    mailer,
    async stop() {
      await h.stop();
      for (const e of emulators) await e.stop();
    },
  };
}
