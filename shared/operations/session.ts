import { createHash, timingSafeEqual } from 'node:crypto';
import type { Caller, CallerCredentials } from '../domain/model';
import { afterFailure, lockedForSeconds, type FailureWindow } from '../domain/throttle';
import { AppError, ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../errors';
import type { CheckedCaller, IssuedSession, SessionClaims } from '../ports';
import type { Services } from '../services';
import type { OperationContext } from './context';

type Deps = Pick<Services, 'config' | 'secrets' | 'directory' | 'storage' | 'sessions'>;

/** Methods that change nothing: cookie-authenticated calls with them need no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_ACTING_USER_CHARS = 256;
const RECORD_ATTEMPTS = 5;

/** Constant-time equality of two secrets of any length (compares digests). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const userKey = (username: string) => `user|${username.trim().toLowerCase()}`;
const addressKey = (address: string) => `address|${address}`;

// ---------------------------------------------------------------- sign in / out

export interface SignedIn {
  session: IssuedSession;
  user: CheckedCaller;
}

/**
 * POST /api/session: Vantagepoint's password grant proves who the person is (nothing is stored),
 * the caller check decides whether they administer Connect, and the service issues its own
 * short-lived signed session. Failed passwords are counted per username and per client address;
 * past the limits attempts wait (429 + Retry-After) before Vantagepoint is even asked.
 */
export async function signIn(deps: Deps, input: { username: string; password: string }, ctx: OperationContext): Promise<SignedIn> {
  const address = ctx.clientAddress ?? 'unknown';
  const keys = [userKey(input.username), addressKey(address)];
  const limits = [deps.config.SIGN_IN_MAX_FAILURES, deps.config.SIGN_IN_MAX_FAILURES_PER_ADDRESS];
  const states = await Promise.all(keys.map((key) => deps.storage.signInFailures.get(key)));
  const wait = Math.max(...states.map((s, i) => lockedForSeconds(s, ctx.now, limits[i] ?? 1, deps.config.SIGN_IN_LOCKOUT_SECONDS)));
  if (wait > 0) {
    ctx.log('session.throttled', { username: input.username, clientAddress: address, retryAfterSeconds: wait });
    throw new TooManyRequestsError(`Too many failed sign-ins for this username or from this address; try again in ${wait} s.`, wait);
  }
  try {
    await deps.directory.authenticate(input.username, input.password);
  } catch (err) {
    if (err instanceof UnauthorizedError) {
      await Promise.all(keys.map((key) => recordFailure(deps, key, ctx.now)));
      ctx.log('session.refused', { username: input.username, clientAddress: ctx.clientAddress });
    }
    throw err;
  }
  if (states[0]) await deps.storage.signInFailures.delete(keys[0] as string);
  const user = await deps.directory.checkCaller(input.username);
  const session = await deps.sessions.issue(user.username, ctx.now);
  ctx.log('session.created', { username: user.username, sessionId: session.id, expiresAt: session.expiresAt });
  return { session, user };
}

/** One more failure for a key; read-modify-write under the row's ETag, re-read on a race. */
async function recordFailure(deps: Deps, key: string, now: Date): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.storage.signInFailures.get(key);
    const next: FailureWindow = afterFailure(current, now, deps.config.SIGN_IN_LOCKOUT_SECONDS);
    try {
      await deps.storage.signInFailures.save(key, next, current?.etag ?? null);
      return;
    } catch (err) {
      const raced = err instanceof AppError && (err.status === 409 || err.status === 412);
      if (!raced || attempt >= RECORD_ATTEMPTS) throw err;
    }
  }
}

/** DELETE /api/session: the session is refused from now on by every instance (until it would have expired). */
export async function signOut(deps: Deps, caller: Caller | null, ctx: OperationContext): Promise<void> {
  if (!caller?.session) return;
  await deps.storage.sessionRevocations.revoke(caller.session.id, caller.session.expiresAt);
  ctx.log('session.ended', { username: caller.username, sessionId: caller.session.id });
}

// ---------------------------------------------------------------- every admin call

/**
 * Who is calling (docs/VANTAGEPOINT.md, "Signing in"), in this order:
 * 1. the Vantagepoint admin form's key (X-Connect-Form-Key) with the acting username;
 * 2. `Authorization: Bearer` with a service session token (or, only where
 *    VANTAGEPOINT_WHOAMI_PATH is configured, a Vantagepoint token);
 * 3. the session cookie, with X-CSRF-Token on anything but GET/HEAD/OPTIONS.
 * Whichever it is, the caller check runs (cached for CALLER_CACHE_SECONDS), so a lost role
 * loses access within that time.
 */
export async function authenticate(deps: Deps, credentials: CallerCredentials, now: Date): Promise<Caller> {
  if (credentials.formKey !== null) return formKeyCaller(deps, credentials);
  if (credentials.bearer !== null) {
    const claims = await deps.sessions.verify(credentials.bearer, now);
    if (claims) return sessionCaller(deps, claims);
    if (deps.config.VANTAGEPOINT_WHOAMI_PATH) {
      const username = await deps.directory.whoAmI(credentials.bearer);
      return { ...(await deps.directory.checkCaller(username)), via: 'vantagepoint-token' };
    }
    throw new UnauthorizedError('The session token is invalid or has expired; sign in again with POST /api/session.');
  }
  if (credentials.cookie !== null) {
    const claims = await deps.sessions.verify(credentials.cookie, now);
    if (!claims) throw new UnauthorizedError('The session cookie is invalid or has expired; sign in again with POST /api/session.');
    if (!SAFE_METHODS.has(credentials.method.toUpperCase()) && !(credentials.csrfToken !== null && sameSecret(credentials.csrfToken, claims.csrfToken))) {
      throw new ForbiddenError('CSRF_TOKEN', 'A change made with the session cookie needs the X-CSRF-Token header holding the csrfToken from POST /api/session.');
    }
    return sessionCaller(deps, claims);
  }
  throw new UnauthorizedError();
}

async function sessionCaller(deps: Deps, claims: SessionClaims): Promise<Caller> {
  if (await deps.storage.sessionRevocations.isRevoked(claims.id)) {
    throw new UnauthorizedError('This session was signed out; sign in again with POST /api/session.');
  }
  const checked = await deps.directory.checkCaller(claims.username);
  return { ...checked, via: 'session', session: { id: claims.id, expiresAt: claims.expiresAt, csrfToken: claims.csrfToken } };
}

async function formKeyCaller(deps: Deps, credentials: CallerCredentials): Promise<Caller> {
  const name = deps.config.CONNECT_FORM_KEY_SECRET_NAME;
  if (!name) throw new UnauthorizedError('The form-key mode is not configured on this service (CONNECT_FORM_KEY_SECRET_NAME).');
  const expected = (await deps.secrets.get(name)).value;
  if (credentials.formKey === null || !sameSecret(credentials.formKey, expected)) throw new UnauthorizedError('The form key is not valid.');
  const acting = credentials.actingUser?.trim() ?? '';
  if (acting.length === 0 || acting.length > MAX_ACTING_USER_CHARS) {
    throw new UnauthorizedError('X-Connect-Acting-User must name the Vantagepoint user acting in the admin form.');
  }
  return { ...(await deps.directory.checkCaller(acting)), via: 'form-key' };
}
