import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { startFakeKeyVault, type FakeKeyVault } from '../../dev/emulators/keyvault';
import { parseConfig, type Config } from '../../shared/config';
import { ServiceUnavailableError } from '../../shared/errors';
import { DEVELOPMENT_CLIENT_STATE_KEY } from '../../shared/adapters/secrets/clientStateKeys';
import {
  clientStateKeysFor,
  createSecretSource,
  EnvironmentSecretSource,
  parseClientStateKeys,
  KeyVaultSecretSource,
  secretFingerprint,
  secretNames,
} from '../../shared/adapters/secrets';

const fakeCredential: TokenCredential = {
  getToken: async () => ({ token: 'fake-token', expiresOnTimestamp: Date.now() + 3600_000 }),
};

function configWith(overrides: Record<string, string>): Config {
  return parseConfig({
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:7072',
    VANTAGEPOINT_CLIENT_ID: 'connect-local',
    VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
    VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
    VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
    GRAPH_NOTIFICATION_URL: 'http://127.0.0.1:7071/api/notifications/graph',
    GRAPH_CLIENT_SECRET_NAME: 'graph-client-secret',
    ...overrides,
  });
}

describe('EnvironmentSecretSource', () => {
  const config = configWith({});
  const names = secretNames(config);

  it('maps each configured secret name to its environment variable', async () => {
    const env: Record<string, string | undefined> = {
      VANTAGEPOINT_CLIENT_SECRET: 'client',
      VANTAGEPOINT_SERVICE_PASSWORD: 'password',
      GRAPH_CLIENT_SECRET: 'graph',
    };
    const source = createSecretSource(config, { env });
    expect(source.kind).toBe('environment');
    expect((await source.get(names.clientSecret)).value).toBe('client');
    expect((await source.get(names.servicePassword)).value).toBe('password');
    expect((await source.get(names.graphClientSecret ?? '')).value).toBe('graph');
  });

  it('versions a value by a short fingerprint that changes with the value and never reveals it', async () => {
    const env: Record<string, string | undefined> = { VANTAGEPOINT_CLIENT_SECRET: 'first-secret' };
    const source = new EnvironmentSecretSource({ [names.clientSecret]: 'VANTAGEPOINT_CLIENT_SECRET' }, env);
    const first = await source.get(names.clientSecret);
    expect(first.version).toBe(secretFingerprint('first-secret'));
    expect(first.version).toHaveLength(12);
    expect(first.version).not.toContain('first-secret');
    expect((await source.get(names.clientSecret)).version).toBe(first.version);

    env.VANTAGEPOINT_CLIENT_SECRET = 'second-secret';
    const second = await source.refresh(names.clientSecret);
    expect(second.value).toBe('second-secret');
    expect(second.version).not.toBe(first.version);
  });

  it('reports an unset variable or an unknown name as unavailable, naming the variable but no value', async () => {
    const source = new EnvironmentSecretSource({ [names.clientSecret]: 'VANTAGEPOINT_CLIENT_SECRET' }, {});
    await expect(source.get(names.clientSecret)).rejects.toThrow(/VANTAGEPOINT_CLIENT_SECRET/);
    await expect(source.get('something-else')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('KeyVaultSecretSource against the fake vault with the real SDK', () => {
  let vault: FakeKeyVault;
  let clock: number;
  const refreshSeconds = 300;

  beforeEach(async () => {
    vault = await startFakeKeyVault();
    clock = Date.parse('2025-01-01T00:00:00Z');
  });
  afterEach(() => vault.stop());

  function source(): KeyVaultSecretSource {
    const client = new SecretClient(vault.url, fakeCredential, {
      allowInsecureConnection: true,
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 }, // the source's own back-off is under test, not the SDK's retries
    });
    return new KeyVaultSecretSource(client, { refreshSeconds, now: () => clock });
  }

  it('is chosen by createSecretSource when KEY_VAULT_URL is set and reads through the challenge', async () => {
    vault.setSecret('vantagepoint-client-secret', 'from-vault');
    const created = createSecretSource(configWith({ KEY_VAULT_URL: vault.url }), {
      credential: fakeCredential,
      clientOptions: { allowInsecureConnection: true, disableChallengeResourceVerification: true },
    });
    expect(created.kind).toBe('key-vault');
    expect((await created.get('vantagepoint-client-secret')).value).toBe('from-vault');
  });

  it('caches a secret, notices a new version on refresh() and after the refresh interval', async () => {
    const v1 = vault.setSecret('vantagepoint-client-secret', 'one');
    const secrets = source();
    const first = await secrets.get('vantagepoint-client-secret');
    expect(first).toMatchObject({ value: 'one', version: v1 });
    expect(first.updatedOn).not.toBeNull();

    const v2 = vault.setSecret('vantagepoint-client-secret', 'two');
    const readsBefore = vault.requestCount();
    expect((await secrets.get('vantagepoint-client-secret')).version).toBe(v1); // served from the cache
    expect(vault.requestCount()).toBe(readsBefore);

    expect(await secrets.refresh('vantagepoint-client-secret')).toMatchObject({ value: 'two', version: v2 });

    const v3 = vault.setSecret('vantagepoint-client-secret', 'three');
    clock += refreshSeconds * 1000;
    expect(await secrets.get('vantagepoint-client-secret')).toMatchObject({ value: 'three', version: v3 });
  });

  it('keeps serving the cached copy on 429 and backs off for Retry-After', async () => {
    const v1 = vault.setSecret('vantagepoint-client-secret', 'one');
    const secrets = source();
    await secrets.get('vantagepoint-client-secret');
    vault.setSecret('vantagepoint-client-secret', 'two');

    vault.failNext(429, 1, 20);
    expect(await secrets.refresh('vantagepoint-client-secret')).toMatchObject({ value: 'one', version: v1 });
    const readsAfterThrottle = vault.requestCount();

    clock += 10_000; // still inside Retry-After: Key Vault is left alone
    expect((await secrets.refresh('vantagepoint-client-secret')).value).toBe('one');
    expect(vault.requestCount()).toBe(readsAfterThrottle);

    clock += 11_000;
    expect((await secrets.refresh('vantagepoint-client-secret')).value).toBe('two');
  });

  it('fails with ServiceUnavailableError(key-vault) when throttled or unreachable with nothing cached', async () => {
    vault.setSecret('vantagepoint-client-secret', 'one');
    const secrets = source();
    vault.failNext(429, 1, 5);
    const throttled = await secrets.get('vantagepoint-client-secret').catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ServiceUnavailableError);
    expect(throttled).toMatchObject({ dependency: 'key-vault', retryAfterSeconds: 5 });

    await expect(secrets.get('no-such-secret')).rejects.toThrow(/throttling/);
    clock += 5_000;
    await expect(secrets.get('no-such-secret')).rejects.toThrow(/no such secret/);

    await vault.stop();
    const unreachable = await source().get('vantagepoint-client-secret').catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(ServiceUnavailableError);
    expect(unreachable).toMatchObject({ dependency: 'key-vault' });
    vault = await startFakeKeyVault(); // afterEach stops it
  });
});

describe('clientState keys', () => {
  const NEW = 'client-state-key-new-0123456789abcdefghij';
  const OLD = 'client-state-key-old-0123456789abcdefghij';

  it('parse one key, or two during a rotation; refuse none, three or a short one (503, never naming the value)', () => {
    expect(parseClientStateKeys(NEW)).toEqual([NEW]);
    expect(parseClientStateKeys(`${NEW}, ${OLD}`)).toEqual([NEW, OLD]);
    for (const bad of ['', `${NEW},${OLD},${NEW}`, 'short']) {
      const error = (() => {
        try {
          parseClientStateKeys(bad);
        } catch (err) {
          return err;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      if (bad) expect(String((error as Error).message)).not.toContain(bad);
    }
  });

  it('come from Key Vault where KEY_VAULT_URL is set, and a rotation there is picked up without a restart', async () => {
    const vault = await startFakeKeyVault();
    try {
      vault.setSecret('client-state-keys', NEW);
      let clock = Date.parse('2025-01-01T00:00:00Z');
      const client = new SecretClient(vault.url, fakeCredential, { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
      const config = configWith({ KEY_VAULT_URL: vault.url });
      const keys = clientStateKeysFor(config, new KeyVaultSecretSource(client, { refreshSeconds: 300, now: () => clock }));
      expect(await keys.current()).toEqual([NEW]);
      vault.setSecret('client-state-keys', `${OLD.replace('old', 'nxt')},${NEW}`);
      clock += 300_000;
      expect(await keys.current()).toEqual([OLD.replace('old', 'nxt'), NEW]);
    } finally {
      await vault.stop();
    }
  });

  it('in development: CLIENT_STATE_KEYS, or a fixed public development key when unset', async () => {
    const secrets = new EnvironmentSecretSource({}, {});
    expect(await clientStateKeysFor(configWith({ CLIENT_STATE_KEYS: `${NEW},${OLD}` }), secrets).current()).toEqual([NEW, OLD]);
    expect(await clientStateKeysFor(configWith({}), secrets).current()).toEqual([DEVELOPMENT_CLIENT_STATE_KEY]);
  });
});
