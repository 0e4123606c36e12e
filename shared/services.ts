import type { Config } from './config';
import { loadConfig } from './config';
import { createMailer, createMailProvider, defaultListLimiter, defaultWriteLimiter, TenantShare } from './adapters/graph';
import { createSecretSource } from './adapters/secrets';
import { createStorage, storageTargetFromConfig, type Storage } from './adapters/tables';
import { createVantagepointDirectory } from './adapters/vantagepoint';
import { JoseSessionSigner } from './adapters/session/signer';
import type { Mailer, MailProvider, SecretSource, SessionSigner, VantagepointDirectory } from './ports';

/** Everything an operation may reach, built once per process from the configuration. */
export interface Services {
  config: Config;
  storage: Storage;
  secrets: SecretSource;
  directory: VantagepointDirectory;
  /** the service's own admin session tokens */
  sessions: SessionSigner;
  mail: MailProvider;
  /** notification emails (null when NOTIFICATION_SENDER is not set) */
  mailer: Mailer | null;
}

let services: Promise<Services> | undefined;

/**
 * The composition root. Adapters are chosen by configuration only: Azurite and the
 * emulators locally, Azure and the real APIs in production — same code paths.
 */
export function getServices(): Promise<Services> {
  services ??= build().catch((err: unknown) => {
    services = undefined; // a storage outage at start-up must not poison the process
    throw err;
  });
  return services;
}

async function build(): Promise<Services> {
  const config = loadConfig();
  const secrets = createSecretSource(config);
  const storage = createStorage(storageTargetFromConfig(config));
  await storage.ensureReady();
  return {
    config,
    storage,
    secrets,
    directory: createVantagepointDirectory(config, secrets),
    sessions: new JoseSessionSigner(secrets, config.SESSION_SIGNING_KEYS_SECRET_NAME, config.SESSION_LIFETIME_MINUTES),
    // Graph's write limit is the tenant's: scaled-out instances split it between them.
    mail: createMailProvider(config, secrets, {
      share: new TenantShare(storage.graphWriters, defaultWriteLimiter(config)),
      listShare: new TenantShare(storage.graphListers, defaultListLimiter()),
    }),
    mailer: createMailer(config, secrets),
  };
}
