import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import type { Config } from '../../config';
import type { SecretSource } from '../../ports';
import { EnvironmentSecretSource, type EnvironmentSecretMap } from './environmentSecretSource';
import { KeyVaultSecretSource } from './keyVaultSecretSource';

export { EnvironmentSecretSource, secretFingerprint } from './environmentSecretSource';
export { KeyVaultSecretSource, type KeyVaultSecretSourceOptions } from './keyVaultSecretSource';
export { clientStateKeysFor, parseClientStateKeys, secretClientStateKeys } from './clientStateKeys';

export interface SecretNames {
  /** the Vantagepoint API client secret (API Authorization) */
  clientSecret: string;
  /** the password of the Vantagepoint service account */
  servicePassword: string;
  /** the Graph app registration's client secret; undefined when Graph uses a managed identity */
  graphClientSecret: string | undefined;
  /** the admin session signing keys (one, or two during a rotation) */
  sessionSigningKeys: string;
  /** the Vantagepoint admin form's key; undefined when the form-key mode is off */
  formKey: string | undefined;
  /** the keys Graph notifications' clientState is signed with (one, or two during a rotation) */
  clientStateKeys: string;
}

/** The secret names the service reads (Key Vault secret names; in development, keys of the environment map). */
export function secretNames(config: Config): SecretNames {
  return {
    clientSecret: config.VANTAGEPOINT_CLIENT_SECRET_NAME,
    servicePassword: config.VANTAGEPOINT_SERVICE_PASSWORD_SECRET_NAME,
    graphClientSecret: config.GRAPH_CLIENT_SECRET_NAME,
    sessionSigningKeys: config.SESSION_SIGNING_KEYS_SECRET_NAME,
    formKey: config.CONNECT_FORM_KEY_SECRET_NAME,
    clientStateKeys: config.CLIENT_STATE_KEYS_SECRET_NAME,
  };
}

/** In development each secret name is read from the environment variable documented beside it in config.ts. */
export function environmentSecretMap(config: Config): EnvironmentSecretMap {
  const names = secretNames(config);
  const map: Record<string, string> = {
    [names.clientSecret]: 'VANTAGEPOINT_CLIENT_SECRET',
    [names.servicePassword]: 'VANTAGEPOINT_SERVICE_PASSWORD',
  };
  if (names.graphClientSecret) map[names.graphClientSecret] = 'GRAPH_CLIENT_SECRET';
  map[names.sessionSigningKeys] = 'SESSION_SIGNING_KEYS';
  if (names.formKey) map[names.formKey] = 'CONNECT_FORM_KEY';
  map[names.clientStateKeys] = 'CLIENT_STATE_KEYS';
  return map;
}

export interface CreateSecretSourceOptions {
  /** defaults to DefaultAzureCredential (managed identity in Azure) */
  credential?: TokenCredential;
  clientOptions?: SecretClientOptions;
  /** environment for the development source; defaults to the live process.env */
  env?: Record<string, string | undefined>;
  now?: () => number;
}

/** Key Vault when KEY_VAULT_URL is set; the environment otherwise (config only allows that in development). */
export function createSecretSource(config: Config, options: CreateSecretSourceOptions = {}): SecretSource {
  if (config.KEY_VAULT_URL) {
    const client = new SecretClient(config.KEY_VAULT_URL, options.credential ?? new DefaultAzureCredential(), options.clientOptions);
    return new KeyVaultSecretSource(client, { refreshSeconds: config.SECRET_REFRESH_SECONDS, now: options.now });
  }
  return new EnvironmentSecretSource(environmentSecretMap(config), options.env ?? process.env);
}
