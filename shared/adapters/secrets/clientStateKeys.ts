import { parseRotatingKeys } from './rotatingKeys';
import type { Config } from '../../config';
import type { ClientStateKeys, SecretSource } from '../../ports';

/**
 * Parses the clientState keys secret: one key, or two during a rotation ("new,old"). The first
 * signs new subscriptions; every one verifies.
 */
export function parseClientStateKeys(value: string): string[] {
  return parseRotatingKeys(value, 'client-state-keys', 'clientState keys');
}

/**
 * The keys through the secret source: Key Vault in Azure (cached, re-read every
 * SECRET_REFRESH_SECONDS, so a rotation needs no restart), the environment in development.
 * The values are never logged.
 */
export function secretClientStateKeys(secrets: SecretSource, secretName: string): ClientStateKeys {
  return { current: async () => parseClientStateKeys((await secrets.get(secretName)).value) };
}

/**
 * Development only, when no key is configured: a fixed, public key, so `npm start` and the
 * in-process test harnesses work without one. Never used where KEY_VAULT_URL is set, and
 * production requires KEY_VAULT_URL (shared/config.ts).
 */
export const DEVELOPMENT_CLIENT_STATE_KEY = 'connect-sync-development-client-state-key-not-secret';

/** Key Vault where configured; otherwise CLIENT_STATE_KEYS, or the development key. */
export function clientStateKeysFor(config: Config, secrets: SecretSource): ClientStateKeys {
  if (config.KEY_VAULT_URL) return secretClientStateKeys(secrets, config.CLIENT_STATE_KEYS_SECRET_NAME);
  const value = config.CLIENT_STATE_KEYS ?? (config.CONNECT_ENVIRONMENT === 'development' ? DEVELOPMENT_CLIENT_STATE_KEY : '');
  return { current: async () => parseClientStateKeys(value) };
}
