import { createHash } from 'node:crypto';
import { ServiceUnavailableError } from '../../errors';
import type { SecretSource, SecretValue } from '../../ports';

/** Secret name → the environment variable that holds its value in development. */
export type EnvironmentSecretMap = Readonly<Record<string, string>>;

/**
 * A short, stable fingerprint of a secret value used as its "version": it changes when the
 * value changes (so rotation is noticed) but does not reveal the value.
 */
export function secretFingerprint(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 12);
}

/**
 * Development secret source: values come from environment variables (local.settings.json).
 * Reading the environment costs nothing, so every call reads the live value; a changed value
 * is seen at once as a new version, exactly like a new Key Vault version.
 */
export class EnvironmentSecretSource implements SecretSource {
  readonly kind = 'environment' as const;

  constructor(
    private readonly variables: EnvironmentSecretMap,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {}

  async get(name: string): Promise<SecretValue> {
    return this.read(name);
  }

  async refresh(name: string): Promise<SecretValue> {
    return this.read(name);
  }

  private read(name: string): SecretValue {
    const variable = this.variables[name];
    if (variable === undefined) {
      throw new ServiceUnavailableError('environment', `No environment variable is configured for the secret "${name}".`);
    }
    const value = this.env[variable];
    if (value === undefined || value === '') {
      throw new ServiceUnavailableError('environment', `The secret "${name}" is not set (environment variable ${variable}).`);
    }
    return { value, version: secretFingerprint(value), updatedOn: null };
  }
}
