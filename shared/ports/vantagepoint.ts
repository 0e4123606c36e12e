/** Secrets, Vantagepoint (directory, employees) and the admin sessions built on it. */
import type { DirectoryEntry } from '../domain/employeeSearch';
import type { Caller, EmployeeFacts } from '../domain/model';

/** The clientState signing keys: one, or two during a rotation (the first signs, every one verifies). */
export interface ClientStateKeys {
  current(): Promise<string[]>;
}

export interface SecretValue {
  value: string;
  version: string;
  updatedOn: string | null;
}
export interface SecretSource {
  /** Cached; re-reads when the cache is older than the refresh interval. */
  get(name: string): Promise<SecretValue>;
  /** Forces a fresh read (rotation, invalid_client). */
  refresh(name: string): Promise<SecretValue>;
  readonly kind: 'key-vault' | 'environment';
}

// ---------------------------------------------------------------- Vantagepoint

export interface CredentialHealth {
  ok: boolean;
  secretVersion: string | null;
  lastTokenAt: string | null;
  lastError: string | null;
  secretSource: SecretSource['kind'];
}

/** What the caller check establishes about an administrator. */
export type CheckedCaller = Omit<Caller, 'via' | 'session'>;

export interface VantagepointDirectory {
  /** The person's own password grant: UnauthorizedError INVALID_CREDENTIALS when refused; nothing is kept. */
  authenticate(username: string, password: string): Promise<void>;
  /** The caller check with the service account: ForbiddenError ADMIN_ROLE / ADMIN_EMPLOYEE; cached CALLER_CACHE_SECONDS. */
  checkCaller(username: string): Promise<CheckedCaller>;
  /** Vantagepoint-bearer mode only (VANTAGEPOINT_WHOAMI_PATH): who owns this Vantagepoint token. */
  whoAmI(bearerToken: string): Promise<string>;
  /** Facts for member prerequisites; unknown ids come back with exists=false. */
  employeeFacts(employeeIds: string[]): Promise<Map<string, EmployeeFacts>>;
  /**
   * Token endpoint reachable and credentials accepted (API_CLIENT / PUBLIC_URL checks).
   * rejected: Vantagepoint refused the credentials; unknown: it could not be asked (unreachable).
   */
  checkCredentials(): Promise<{ ok: boolean; message: string; rejected?: true; unknown?: true }>;
  health(): CredentialHealth;
  /** Re-read the secret and re-acquire tokens now. */
  refreshCredentials(): Promise<CredentialHealth>;
}

/**
 * The directory's whole employee list, for searching it: Vantagepoint documents no search
 * parameter, so the adapter reads the paged list (GET /api/employee) and keeps it briefly.
 */
export interface EmployeeList {
  /** Every employee with the facts the member prerequisites need; `readAt` says how old the copy is. */
  employees(): Promise<{ entries: DirectoryEntry[]; readAt: string }>;
}

// ---------------------------------------------------------------- admin sessions

export interface IssuedSession {
  token: string;
  id: string;
  expiresAt: string;
  csrfToken: string;
}

export interface SessionClaims {
  id: string;
  username: string;
  expiresAt: string;
  csrfToken: string;
}

/** The service's own signed session tokens (keys from the secret source; two accepted during a rotation). */
export interface SessionSigner {
  issue(username: string, now: Date): Promise<IssuedSession>;
  /** null when the token is not one of ours, is tampered with, or has expired */
  verify(token: string, now: Date): Promise<SessionClaims | null>;
}

/** Signed-out sessions, remembered until they would have expired anyway (shared by every instance). */
export interface SessionRevocations {
  revoke(sessionId: string, expiresAt: string): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}

/** Failed sign-ins per key ("user|name", "address|ip"), shared by every instance. */
export interface SignInFailureStore {
  /** the recorded failures of a key, or null */
  get(key: string): Promise<{ failures: number; windowStart: string; etag: string } | null>;
  /** create (etag null) or replace with etag; PreconditionFailedError / ConflictError on a race */
  save(key: string, value: { failures: number; windowStart: string }, etag: string | null): Promise<void>;
  delete(key: string): Promise<void>;
}
