import type { Config } from './config';
import { loadConfig } from './config';
import { createMailer, createMailProvider, defaultListLimiter, defaultWriteLimiter, TenantShare } from './adapters/graph';
import { clientStateKeysFor, createSecretSource } from './adapters/secrets';
import { createStorage, storageTargetFromConfig, type Storage } from './adapters/tables';
import { createVantagepointDirectory } from './adapters/vantagepoint';
import { JoseSessionSigner } from './adapters/session/signer';
import { graphAccessNotices } from './operations/incidents';
import type { ClientStateKeys, EmployeeList, GraphAccessListener, Mailer, MailProvider, SecretSource, SessionSigner, VantagepointDirectory } from './ports';
import { onceSucceeded } from './util/singleFlight';

/** Everything an operation may reach, built once per process from the configuration. */
export interface Services {
  config: Config;
  storage: Storage;
  secrets: SecretSource;
  directory: VantagepointDirectory;
  /** the employee list behind search (the same Vantagepoint client, its own short-lived copy) */
  employees: EmployeeList;
  /** the service's own admin session tokens */
  sessions: SessionSigner;
  /** the keys Graph notifications' clientState is signed and verified with (shared/domain/clientState.ts) */
  clientStateKeys: ClientStateKeys;
  mail: MailProvider;
  /** notification emails (null when NOTIFICATION_SENDER is not set) */
  mailer: Mailer | null;
  /**
   * Told when the organisation loses or regains Graph access (the breaker, operations/graphAccess.ts),
   * once per transition. The notification emails listen here (one email each way).
   */
  graphAccessListeners: GraphAccessListener[];
}

/**
 * The composition root. Adapters are chosen by configuration only: Azurite and the
 * emulators locally, Azure and the real APIs in production — same code paths. Built once;
 * a storage outage at start-up does not poison the process (the next call tries again).
 */
export const getServices: () => Promise<Services> = onceSucceeded(() => build());

async function build(): Promise<Services> {
  const config = loadConfig();
  const secrets = createSecretSource(config);
  const storage = createStorage(storageTargetFromConfig(config));
  await storage.ensureReady();
  const directory = createVantagepointDirectory(config, secrets);
  return {
    config,
    storage,
    secrets,
    directory,
    employees: directory,
    sessions: new JoseSessionSigner(secrets, config.SESSION_SIGNING_KEYS_SECRET_NAME, config.SESSION_LIFETIME_MINUTES),
    clientStateKeys: clientStateKeysFor(config, secrets),
    // Graph's write limit is the tenant's: scaled-out instances split it between them.
    mail: createMailProvider(config, secrets, {
      share: new TenantShare(storage.graphWriters, defaultWriteLimiter(config)),
      listShare: new TenantShare(storage.graphListers, defaultListLimiter()),
    }),
    mailer: createMailer(config, secrets),
    graphAccessListeners: [graphAccessNotices({ storage })],
  };
}
