import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import type { HostResolution } from '../domain/prerequisites';

/** DNS answers that mean "this name does not exist" (the check failed), not "DNS could not be asked". */
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME']);

/**
 * Every address a host name resolves to (A and AAAA), for the PUBLIC_URL check: a public-looking
 * name that resolves to a private address is not public. IP literals are not looked up.
 */
export async function resolveHost(hostname: string): Promise<HostResolution | undefined> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return undefined;
  try {
    const answers = await lookup(host, { all: true, verbatim: true });
    return { addresses: answers.map((a) => a.address) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
    return typeof code === 'string' && NOT_FOUND.has(code) ? { notFound: true, message } : { unknown: true, message };
  }
}
