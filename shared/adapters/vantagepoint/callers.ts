import type { Config } from '../../config';
import type { Caller } from '../../domain/model';
import { isValidEmail } from '../../domain/email';
import { ForbiddenError, UnauthorizedError } from '../../errors';
import type { ApiResponse, VantagepointApi } from './api';
import { TtlCache } from './cache';
import { parseKeyed, parseSingle } from './parse';
import { TokenRejectedError, type ServiceTokens } from './tokens';
import { isActiveUserStatus, userSchema, type VantagepointEmployee, type VantagepointUser } from './wire';

type Denial = { code: 'ADMIN_ROLE' | 'ADMIN_EMPLOYEE'; message: string };
type Outcome = { caller: Omit<Caller, 'via' | 'session'> } | { denied: Denial };

export interface CallerDirectoryDeps {
  config: Config;
  api: VantagepointApi;
  tokens: ServiceTokens;
  /** GET with the service token (re-acquired once on 401) */
  serviceGet: (path: string) => Promise<ApiResponse>;
  /** one employee by key, null when missing */
  employee: (key: string) => Promise<VantagepointEmployee | null>;
  now: () => number;
}

/**
 * Who may administer Connect, decided with documented Vantagepoint calls only
 * (docs/VANTAGEPOINT.md, "Signing in"): the person's own password grant proves who they are;
 * the service account then reads their user record (`GET /api/user/{username}`) and employee
 * record (`GET /api/employee/{key}`). No "who am I" endpoint is needed.
 */
export class CallerDirectory {
  private readonly checks: TtlCache<Outcome>;
  private readonly adminRoles: Set<string>;
  private readonly adminUsers: Set<string>;

  constructor(private readonly deps: CallerDirectoryDeps) {
    this.checks = new TtlCache(deps.config.CALLER_CACHE_SECONDS * 1000, deps.now);
    this.adminRoles = new Set(deps.config.CONNECT_ADMIN_ROLES.map((r) => r.toLowerCase()));
    this.adminUsers = new Set(deps.config.CONNECT_ADMIN_USERS.map((u) => u.toLowerCase()));
  }

  /**
   * Vantagepoint's password grant with the person's own credentials, with the service's API
   * Authorization client: proves the password; the tokens are dropped at once (nothing is stored).
   * `invalid_grant` is a wrong username or password. Deltek documents no other refusal of a
   * person's grant, so any other one (`invalid_request`, a 401 that is not OAuth, ...) is theirs
   * when the service account's own grant, same client and fields, is accepted; otherwise the
   * service is misconfigured or Vantagepoint is down (503). `invalid_client` is always the client's.
   */
  async authenticate(username: string, password: string): Promise<void> {
    try {
      await this.deps.tokens.userPasswordGrant(username, password);
    } catch (err) {
      if (!(err instanceof TokenRejectedError) || err.oauthError === 'invalid_client') throw err;
      if (err.oauthError === 'invalid_grant' || (await this.serviceGrantAccepted())) {
        throw new UnauthorizedError('The Vantagepoint username or password is incorrect.', 'INVALID_CREDENTIALS');
      }
      throw err;
    }
  }

  private async serviceGrantAccepted(): Promise<boolean> {
    try {
      await this.deps.tokens.accessToken();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The caller check (role, employee, valid email) with the service account. Answers, both
   * successes and denials, are trusted for CALLER_CACHE_SECONDS: a lost role takes effect within it.
   */
  async check(username: string): Promise<Omit<Caller, 'via' | 'session'>> {
    const key = username.toLowerCase();
    let outcome = this.checks.get(key);
    if (!outcome) {
      outcome = await this.evaluate(username);
      this.checks.set(key, outcome);
    }
    if ('denied' in outcome) throw new ForbiddenError(outcome.denied.code, outcome.denied.message);
    return outcome.caller;
  }

  /** Vantagepoint-bearer mode (VANTAGEPOINT_WHOAMI_PATH, unverified): the username owning the caller's token. */
  async whoAmI(bearerToken: string): Promise<string> {
    const path = this.deps.config.VANTAGEPOINT_WHOAMI_PATH;
    if (!path) throw new UnauthorizedError();
    const response = await this.deps.api.get(path, bearerToken);
    if (response.status === 401 || response.status === 403) throw new UnauthorizedError('The Vantagepoint bearer token is invalid or expired.');
    const user = parseSingle(response, userSchema, `GET /api${path}`);
    if (!user) throw new UnauthorizedError(`Vantagepoint's ${path} named no user for this token.`);
    return user.Username;
  }

  private async evaluate(username: string): Promise<Outcome> {
    const user = await this.user(username);
    if (!user) {
      return denied('ADMIN_ROLE', `Vantagepoint has no user record "${username}" readable by the service account (Settings > Security > Users).`);
    }
    if (!isActiveUserStatus(user.Status)) {
      return denied('ADMIN_ROLE', `Your Vantagepoint user "${user.Username}" is inactive (Settings > Security > Users).`);
    }
    const role = (user.Role ?? '').trim();
    if (role.length > 0 ? !this.adminRoles.has(role.toLowerCase()) : !this.adminUsers.has(user.Username.toLowerCase())) {
      return denied(
        'ADMIN_ROLE',
        role.length > 0
          ? `Your Vantagepoint security role "${role}" does not grant Connect Administration (Utilities > Integrations > Connect Administration). Ask your Vantagepoint administrator for a role that does.`
          : `"${user.Username}" is not a Connect administrator: ask whoever deploys Connect Sync to add the username to CONNECT_ADMIN_USERS.`,
      );
    }
    if (!user.Employee) {
      return denied('ADMIN_EMPLOYEE', `Your Vantagepoint user "${user.Username}" is not associated with an employee record (Settings > Security > Users).`);
    }
    const employee = await this.deps.employee(user.Employee);
    if (!employee) {
      return denied('ADMIN_EMPLOYEE', `The employee record "${user.Employee}" associated with your user "${user.Username}" does not exist.`);
    }
    if (!isValidEmail(employee.EMail)) {
      return denied('ADMIN_EMPLOYEE', `Your employee record "${employee.Employee}" has no valid email address; add one in Vantagepoint's Employees hub.`);
    }
    return { caller: { username: user.Username, employeeId: employee.Employee, email: employee.EMail.trim(), role } };
  }

  /** `GET /api/user/{username}` with the service token: an array of one (an object is accepted); 404, `[]` or only other users → none. */
  private async user(username: string): Promise<VantagepointUser | null> {
    const response = await this.deps.serviceGet(`/user/${encodeURIComponent(username)}`);
    if (response.status === 404) return null;
    // A server that answers a list here must not let another user's record decide.
    return parseKeyed(response, userSchema, 'GET /api/user/{username}', (u) => u.Username.toLowerCase() === username.toLowerCase());
  }
}

function denied(code: Denial['code'], message: string): Outcome {
  return { denied: { code, message } };
}
