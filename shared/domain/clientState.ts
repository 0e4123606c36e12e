import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MailResource } from './model';

/**
 * The clientState we give Graph with each subscription, verifiable without a read.
 *
 * `v2.<resource>.<base64url(employeeId)>.<mac>`, where mac = HMAC-SHA256 over the owner (the
 * Vantagepoint employee whose mailbox it is) and the resource, keyed by the service's
 * clientState key (Key Vault; two keys during a rotation: the first signs, both verify).
 * The webhook learns whose notification it is from the clientState alone and trusts it only
 * if the MAC matches, so it needs no subscription look-up before answering Graph. Graph
 * allows 128 characters; employee ids are at most 32 (EmployeeId in shared/api/schemas.ts), so
 * the longest value is 3 + 9 + 43 + 1 + 43 = 99.
 *
 * Pure: keys are passed in. A value without the `v2.` prefix is a legacy clientState (a random
 * value whose SHA-256 our subscription table holds); see `isLegacyClientState`.
 */
const PREFIX = 'v2';
const RESOURCES: readonly MailResource[] = ['events', 'contacts', 'messages'];
/** Graph's limit on clientState (resources/subscription.md). */
export const MAX_CLIENT_STATE_LENGTH = 128;

export interface ClientStateOwner {
  employeeId: string;
  resource: MailResource;
}

function mac(key: string, owner: ClientStateOwner): Buffer {
  // Domain-separated and length-unambiguous: neither part can contain a newline.
  return createHmac('sha256', key).update(`connect-sync.clientState/2\n${owner.employeeId}\n${owner.resource}`, 'utf8').digest();
}

/** The clientState for a new subscription, signed with the current (first) key. */
export function signClientState(keys: readonly string[], owner: ClientStateOwner): string {
  const [key] = keys;
  if (!key) throw new Error('no clientState key');
  const value = [PREFIX, owner.resource, Buffer.from(owner.employeeId, 'utf8').toString('base64url'), mac(key, owner).toString('base64url')].join('.');
  if (value.length > MAX_CLIENT_STATE_LENGTH) throw new Error(`clientState would exceed ${MAX_CLIENT_STATE_LENGTH} characters`);
  return value;
}

/** A value in the current format (it may still fail verification). */
export function isSignedClientState(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

/**
 * The owner a clientState names, if its MAC matches one of the keys; null otherwise.
 * Every key is tried and compared in constant time (no early exit on the first match), so
 * the time taken does not tell which key matched or how much of a forged MAC was right.
 */
export function verifyClientState(keys: readonly string[], value: string | undefined): ClientStateOwner | null {
  if (value === undefined || value.length > MAX_CLIENT_STATE_LENGTH) return null;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX) return null;
  const [, resource, encodedOwner, givenMac] = parts as [string, string, string, string];
  if (!(RESOURCES as readonly string[]).includes(resource)) return null;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(encodedOwner) || !/^[A-Za-z0-9_-]{43}$/.test(givenMac)) return null;
  const employeeId = Buffer.from(encodedOwner, 'base64url').toString('utf8');
  // Canonical encoding only: a second spelling of the same owner is not accepted.
  if (employeeId.length === 0 || Buffer.from(employeeId, 'utf8').toString('base64url') !== encodedOwner) return null;
  const owner: ClientStateOwner = { employeeId, resource: resource as MailResource };
  const given = Buffer.from(givenMac, 'base64url');
  // The 43rd character carries 2 unused bits: only the canonical spelling of a MAC is accepted.
  if (given.toString('base64url') !== givenMac) return null;
  let matched = false;
  for (const key of keys) {
    const expected = mac(key, owner);
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
  }
  return matched ? owner : null;
}
