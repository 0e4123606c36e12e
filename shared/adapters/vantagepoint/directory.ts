import { createHash } from 'node:crypto';
import type { Config } from '../../config';
import type { Caller, EmployeeFacts } from '../../domain/model';
import { ForbiddenError, ServiceUnavailableError, UnauthorizedError } from '../../errors';
import type { CredentialHealth, SecretSource, VantagepointDirectory } from '../../ports';
import { restDetail, VantagepointApi, type ApiResponse } from './api';
import { TtlCache } from './cache';
import { mapLimited } from '../../util/concurrency';
import { isValidEmail } from '../../domain/email';
import { canonicalEmployeeId } from '../../domain/employee';
import { describeError, ServiceTokens, TokenRejectedError } from './tokens';
import { employeeSchema, MAX_PAGE_SIZE, userSchema, type VantagepointEmployee, type VantagepointUser } from './wire';

export interface VantagepointDirectoryOptions {
  /** clock (epoch ms) for token expiry and caches */
  now?: () => number;
  fetch?: typeof fetch;
  /** page size of the user list (GET /api/user); at most 1000 */
  userPageSize?: number;
}

/** Employee reads in flight at once, to stay a polite client of the customer's Vantagepoint. */
const EMPLOYEE_READ_CONCURRENCY = 8;

type CallerOutcome = { caller: Caller } | { denied: { code: 'ADMIN_ROLE' | 'ADMIN_EMPLOYEE'; message: string } };
interface UserAssociation {
  username: string;
  active: boolean;
}

export function createVantagepointDirectory(config: Config, secrets: SecretSource, options: VantagepointDirectoryOptions = {}): VantagepointDirectory {
  return new HttpVantagepointDirectory(config, secrets, options);
}

/** VantagepointDirectory over Vantagepoint's REST API (the emulator locally, the customer's installation in Azure). */
class HttpVantagepointDirectory implements VantagepointDirectory {
  private readonly api: VantagepointApi;
  private readonly tokens: ServiceTokens;
  private readonly callers: TtlCache<CallerOutcome>;
  private readonly userIndex: TtlCache<Map<string, UserAssociation>>;
  private userIndexLoad: Promise<Map<string, UserAssociation>> | undefined;
  private readonly adminRoles: Set<string>;
  private readonly userPageSize: number;

  constructor(
    private readonly config: Config,
    secrets: SecretSource,
    options: VantagepointDirectoryOptions,
  ) {
    const now = options.now ?? Date.now;
    this.api = new VantagepointApi(config.VANTAGEPOINT_BASE_URL, options.fetch ?? fetch);
    this.tokens = new ServiceTokens(config, secrets, this.api, now);
    this.callers = new TtlCache(config.CALLER_CACHE_SECONDS * 1000, now);
    this.userIndex = new TtlCache(config.CALLER_CACHE_SECONDS * 1000, now, 1);
    this.adminRoles = new Set(config.CONNECT_ADMIN_ROLES.map((r) => r.toLowerCase()));
    this.userPageSize = Math.min(options.userPageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  }

  // ------------------------------------------------------------ caller check

  async resolveCaller(bearerToken: string): Promise<Caller> {
    if (bearerToken.trim().length === 0) throw new UnauthorizedError();
    // keyed by a digest so the cache never holds a usable token
    const key = createHash('sha256').update(bearerToken, 'utf8').digest('hex');
    let outcome = this.callers.get(key);
    if (!outcome) {
      outcome = await this.checkCaller(bearerToken);
      this.callers.set(key, outcome);
    }
    if ('denied' in outcome) throw new ForbiddenError(outcome.denied.code, outcome.denied.message);
    return outcome.caller;
  }

  private async checkCaller(bearerToken: string): Promise<CallerOutcome> {
    const user = await this.tokenOwner(bearerToken);
    if (!this.adminRoles.has(user.Role.toLowerCase())) {
      return denied(
        'ADMIN_ROLE',
        `Your Vantagepoint security role "${user.Role}" does not grant Connect Administration ` +
          '(Utilities > Integrations > Connect Administration). Ask your Vantagepoint administrator for a role that does.',
      );
    }
    if (!user.Employee) {
      return denied('ADMIN_EMPLOYEE', `Your Vantagepoint user "${user.Username}" is not associated with an employee record (Settings > Security > Users).`);
    }
    const employee = await this.employee(user.Employee);
    if (!employee) {
      return denied('ADMIN_EMPLOYEE', `The employee record "${user.Employee}" associated with your user "${user.Username}" does not exist.`);
    }
    if (!isValidEmail(employee.EMail)) {
      return denied('ADMIN_EMPLOYEE', `Your employee record "${employee.Employee}" has no valid email address; add one in Vantagepoint's Employees hub.`);
    }
    return { caller: { username: user.Username, employeeId: employee.Employee, email: employee.EMail, role: user.Role } };
  }

  /** Who owns the caller's token: GET /api/user/current with that token (see docs/VANTAGEPOINT.md). */
  private async tokenOwner(bearerToken: string): Promise<VantagepointUser> {
    const response = await this.api.get('/user/current', bearerToken);
    if (response.status === 401 || response.status === 403) throw new UnauthorizedError('The Vantagepoint bearer token is invalid or expired.');
    if (response.status === 404) {
      throw new ServiceUnavailableError('vantagepoint', 'This Vantagepoint has no GET /api/user/current endpoint to identify the caller (see docs/VANTAGEPOINT.md).');
    }
    return parseOk(response, userSchema, 'GET /api/user/current');
  }

  // ------------------------------------------------------------ employee facts

  async employeeFacts(employeeIds: string[]): Promise<Map<string, EmployeeFacts>> {
    const ids = [...new Set(employeeIds)];
    const [users, employees] = await Promise.all([
      this.usersByEmployee(),
      mapLimited(ids, (id) => this.employee(id), EMPLOYEE_READ_CONCURRENCY),
    ]);
    return new Map(ids.map((id, i) => [id, toFacts(id, employees[i] ?? null, users.get(canonicalEmployeeId(id)) ?? null)]));
  }

  /** One employee by key with the service token; null when Vantagepoint has no such employee. */
  private async employee(key: string): Promise<VantagepointEmployee | null> {
    const response = await this.serviceGet(`/employee/${encodeURIComponent(key)}`);
    if (response.status === 404) return null;
    return parseOk(response, employeeSchema, 'GET /api/employee/{key}');
  }

  /** Users indexed by employee key, from the paged user list; cached, one load at a time. */
  private async usersByEmployee(): Promise<Map<string, UserAssociation>> {
    const cached = this.userIndex.get('users');
    if (cached) return cached;
    this.userIndexLoad ??= this.loadUserIndex().finally(() => {
      this.userIndexLoad = undefined;
    });
    return this.userIndexLoad;
  }

  private async loadUserIndex(): Promise<Map<string, UserAssociation>> {
    const index = new Map<string, UserAssociation>();
    for (let page = 1; ; page += 1) {
      const response = await this.serviceGet(`/user?page=${page}&pageSize=${this.userPageSize}`);
      const users = parseOk(response, userSchema.array(), 'GET /api/user');
      for (const user of users) addUser(index, user);
      if (users.length < this.userPageSize) break;
    }
    this.userIndex.set('users', index);
    return index;
  }

  /** GET with the service token; a 401 means the token was revoked (e.g. secret rotated): re-acquire once. */
  private async serviceGet(path: string): Promise<ApiResponse> {
    const token = await this.tokens.accessToken();
    const response = await this.api.get(path, token);
    if (response.status !== 401) return response;
    this.tokens.discard(token);
    const retried = await this.api.get(path, await this.tokens.accessToken());
    if (retried.status === 401) {
      throw new ServiceUnavailableError('vantagepoint', `Vantagepoint rejected the service account's new token${restDetail(retried.body)}.`);
    }
    return retried;
  }

  // ------------------------------------------------------------ credentials

  async checkCredentials(): Promise<{ ok: boolean; message: string; rejected?: true }> {
    try {
      await this.tokens.verify();
      return { ok: true, message: `Vantagepoint's token endpoint (${this.api.apiUrl}/token) accepted the client credentials.` };
    } catch (err) {
      // Refused (vs unreachable): the credential itself is failing, which a person must fix.
      return { ok: false, message: describeError(err), ...(err instanceof TokenRejectedError ? { rejected: true as const } : {}) };
    }
  }

  health(): CredentialHealth {
    return this.tokens.health();
  }

  refreshCredentials(): Promise<CredentialHealth> {
    return this.tokens.renewAll();
  }
}

function denied(code: 'ADMIN_ROLE' | 'ADMIN_EMPLOYEE', message: string): CallerOutcome {
  return { denied: { code, message } };
}

/** Several users may point at one employee: an active one wins. */
function addUser(index: Map<string, UserAssociation>, user: VantagepointUser): void {
  if (!user.Employee) return;
  const active = user.Status.toLowerCase() === 'active';
  // Keys match ignoring case in Vantagepoint: index them as the service spells ids (canonicalEmployeeId).
  const key = canonicalEmployeeId(user.Employee);
  if (index.get(key)?.active && !active) return;
  index.set(key, { username: user.Username, active });
}

function toFacts(employeeId: string, employee: VantagepointEmployee | null, user: UserAssociation | null): EmployeeFacts {
  if (!employee) return { employeeId, exists: false, name: '', email: '', employeeStatus: '', user };
  return {
    employeeId,
    exists: true,
    name: `${employee.FirstName} ${employee.LastName}`.trim(),
    email: employee.EMail.trim(),
    employeeStatus: employee.Status,
    user,
  };
}

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

/** A 200 with the expected shape; anything else from Vantagepoint is an outage for our purposes. */
function parseOk<T>(response: ApiResponse, schema: Schema<T>, what: string): T {
  if (response.status !== 200) {
    throw new ServiceUnavailableError('vantagepoint', `Vantagepoint answered ${response.status} to ${what}${restDetail(response.body)}.`);
  }
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint's answer to ${what} has an unexpected shape.`);
  return parsed.data;
}
