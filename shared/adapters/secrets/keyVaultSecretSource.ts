import type { KeyVaultSecret, SecretClient } from '@azure/keyvault-secrets';
import { ServiceUnavailableError } from '../../errors';
import type { SecretSource, SecretValue } from '../../ports';
import { singleFlightBy } from '../../util/singleFlight';

export interface KeyVaultSecretSourceOptions {
  /** SECRET_REFRESH_SECONDS: how long a cached copy is served before Key Vault is asked for the current version. */
  refreshSeconds: number;
  now?: () => number;
}

interface CachedSecret {
  secret: SecretValue;
  /** epoch ms after which get() asks Key Vault again */
  checkAfter: number;
}

/** Used when Key Vault throttles without a usable Retry-After. */
const DEFAULT_THROTTLE_BACKOFF_MS = 30_000;
/** After a failed re-read with a cached copy, wait this long (at most) before trying again. */
const FAILED_READ_RETRY_MS = 30_000;

/**
 * Secrets from Azure Key Vault through the real SDK. Each secret is cached in memory and
 * re-read after the refresh interval, so a new version is picked up without a restart.
 * Key Vault trouble never takes a working credential away: while a cached copy exists it is
 * served (429 backs off for Retry-After); only with nothing cached does a read fail.
 */
export class KeyVaultSecretSource implements SecretSource {
  readonly kind = 'key-vault' as const;
  private readonly cache = new Map<string, CachedSecret>();
  /** Throttling is per vault, so one back-off window covers every secret. */
  private throttledUntil = 0;
  private readonly now: () => number;
  private readonly refreshMs: number;

  constructor(
    private readonly client: SecretClient,
    options: KeyVaultSecretSourceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshSeconds * 1000;
  }

  async get(name: string): Promise<SecretValue> {
    const cached = this.cache.get(name);
    if (cached && this.now() < cached.checkAfter) return cached.secret;
    return this.read(name);
  }

  async refresh(name: string): Promise<SecretValue> {
    return this.read(name);
  }

  /** Concurrent readers of one secret share a single Key Vault request. */
  private readonly read = singleFlightBy((name: string) => this.readFromVault(name));

  private async readFromVault(name: string): Promise<SecretValue> {
    const cached = this.cache.get(name)?.secret;
    if (this.now() < this.throttledUntil) {
      if (cached) return cached;
      throw this.unavailable(name, 'Key Vault is throttling requests', this.throttledUntil - this.now());
    }
    try {
      const secret = toSecretValue(name, await this.client.getSecret(name));
      this.cache.set(name, { secret, checkAfter: this.now() + this.refreshMs });
      return secret;
    } catch (err) {
      const status = statusOf(err);
      if (status === 429) this.throttledUntil = this.now() + retryAfterMs(err);
      if (cached) {
        const retryAt = Math.max(this.throttledUntil, this.now() + Math.min(this.refreshMs, FAILED_READ_RETRY_MS));
        this.cache.set(name, { secret: cached, checkAfter: retryAt });
        return cached;
      }
      throw this.unavailable(name, describeFailure(status, err), status === 429 ? this.throttledUntil - this.now() : undefined);
    }
  }

  private unavailable(name: string, reason: string, retryAfterMillis?: number): ServiceUnavailableError {
    const retryAfterSeconds = retryAfterMillis === undefined ? undefined : Math.max(1, Math.ceil(retryAfterMillis / 1000));
    return new ServiceUnavailableError('key-vault', `The secret "${name}" cannot be read from Key Vault: ${reason}.`, retryAfterSeconds);
  }
}

function toSecretValue(name: string, secret: KeyVaultSecret): SecretValue {
  if (secret.value === undefined || secret.properties.enabled === false) {
    throw new ServiceUnavailableError('key-vault', `The secret "${name}" has no enabled value in Key Vault.`);
  }
  return {
    value: secret.value,
    version: secret.properties.version ?? '',
    updatedOn: secret.properties.updatedOn?.toISOString() ?? null,
  };
}

interface RestErrorLike {
  statusCode?: number;
  message?: string;
  response?: { headers: { get(name: string): string | undefined } };
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as RestErrorLike).statusCode : undefined;
}

function retryAfterMs(err: unknown): number {
  const header = (err as RestErrorLike).response?.headers.get('retry-after');
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_THROTTLE_BACKOFF_MS;
}

/** A message for operators; SDK messages name the vault and the failure, never a secret value. */
function describeFailure(status: number | undefined, err: unknown): string {
  if (status === 404) return 'no such secret';
  if (status === 401 || status === 403) return 'access denied (the app identity needs the Key Vault Secrets User role)';
  if (status === 429) return 'Key Vault is throttling requests';
  const detail = err instanceof Error ? err.message : String(err);
  return status === undefined ? `Key Vault is unreachable (${detail})` : `Key Vault answered ${status} (${detail})`;
}
