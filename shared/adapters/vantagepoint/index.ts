export { createVantagepointDirectory, type VantagepointDirectoryOptions } from './directory';
export { isValidEmail } from '../../domain/email';
export { REQUEST_TIMEOUT_MS } from './api';
export { TokenRejectedError } from './tokens';
export * from './wire';
