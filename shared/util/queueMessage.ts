/**
 * A queue trigger's message as its payload: the Functions host hands JSON text over parsed, but a
 * message written by another tool (or a base64 mismatch) can still arrive as a string. Text that
 * is not JSON becomes `undefined`, which every message schema refuses, so it is dropped as malformed.
 */
export function queuePayload(message: unknown): unknown {
  if (typeof message !== 'string') return message;
  try {
    return JSON.parse(message) as unknown;
  } catch {
    return undefined;
  }
}
