import { ConfigError, loadConfig } from './config';

/**
 * Imported first by every function file: a missing or malformed setting stops the
 * app at start-up with a message naming it, instead of failing on the first request.
 */
try {
  loadConfig();
} catch (err) {
  if (err instanceof ConfigError) console.error(err.message);
  throw err;
}
