import { ServiceUnavailableError } from '../../errors';

/** HMAC-SHA256 keys of at least 256 bits. */
export const MIN_KEY_CHARS = 32;

/**
 * A secret holding one key, or two during a rotation ("new,old"), separated by commas or
 * whitespace: the first signs, every one verifies. A malformed secret is the deployment's
 * problem (503 naming the secret, never its value).
 */
export function parseRotatingKeys(value: string, dependency: string, what: string): string[] {
  const keys = value
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (keys.length === 0 || keys.length > 2 || keys.some((k) => k.length < MIN_KEY_CHARS)) {
    throw new ServiceUnavailableError(dependency, `The ${what} secret must hold one or two keys (comma-separated), each at least ${MIN_KEY_CHARS} characters.`, 60);
  }
  return keys;
}
