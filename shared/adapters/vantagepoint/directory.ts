import type { Config } from '../../config';
import type { Caller, EmployeeFacts } from '../../domain/model';
import { ServiceUnavailableError } from '../../errors';
import type { CredentialHealth, EmployeeList, SecretSource, VantagepointDirectory } from '../../ports';
import { createEmployeeList } from './employeeList';
import { restDetail, VantagepointApi, type ApiResponse } from './api';
import { TtlCache } from './cache';
import { CallerDirectory } from './callers';
import { mapLimited } from '../../util/concurrency';
import { canonicalEmployeeId } from '../../domain/employee';
import { readAllPages } from './paging';
import { parseKeyed, parsePage } from './parse';
import { describeError, ServiceTokens, TokenRejectedError } from './tokens';
import { CLIENT_PAGE_SIZE, EMPLOYEE_FIELDS, employeeSchema, isActiveUserStatus, userSchema, type VantagepointEmployee, type VantagepointUser } from './wire';
import { singleFlight } from '../../util/singleFlight';

export interface VantagepointDirectoryOptions {
  /** clock (epoch ms) for token expiry and caches */
  now?: () => number;
  fetch?: typeof fetch;
  /** page size asked for on the user list (GET /api/user); the server may serve fewer */
  userPageSize?: number;
  /** the user list fails loudly past this many pages */
  maxUserPages?: number;
}

/** Employee reads in flight at once, to stay a polite client of the customer's Vantagepoint. */
const EMPLOYEE_READ_CONCURRENCY = 8;
/** 1,000 pages of 100: far beyond any Vantagepoint's user count; past it the read fails loudly. */
const MAX_USER_PAGES = 1000;

interface UserAssociation {
  username: string;
  active: boolean;
}

export function createVantagepointDirectory(config: Config, secrets: SecretSource, options: VantagepointDirectoryOptions = {}): VantagepointDirectory & EmployeeList {
  return new HttpVantagepointDirectory(config, secrets, options);
}

/** VantagepointDirectory over Vantagepoint's REST API (the emulator locally, the customer's installation in Azure). */
class HttpVantagepointDirectory implements VantagepointDirectory, EmployeeList {
  private readonly api: VantagepointApi;
  private readonly tokens: ServiceTokens;
  private readonly callers: CallerDirectory;
  private readonly userIndex: TtlCache<Map<string, UserAssociation>>;
  private readonly loadUserIndexOnce = singleFlight(() => this.loadUserIndex());
  private readonly userPageSize: number;
  private readonly maxUserPages: number;
  private readonly employeeList: EmployeeList;

  constructor(config: Config, secrets: SecretSource, options: VantagepointDirectoryOptions) {
    const now = options.now ?? Date.now;
    this.api = new VantagepointApi(config.VANTAGEPOINT_BASE_URL, options.fetch ?? fetch);
    this.tokens = new ServiceTokens(config, secrets, this.api, now);
    this.userIndex = new TtlCache(config.CALLER_CACHE_SECONDS * 1000, now, 1);
    this.userPageSize = options.userPageSize ?? CLIENT_PAGE_SIZE;
    this.maxUserPages = options.maxUserPages ?? MAX_USER_PAGES;
    this.callers = new CallerDirectory({
      config,
      api: this.api,
      tokens: this.tokens,
      serviceGet: (path) => this.serviceGet(path),
      employee: (key) => this.employee(key),
      now,
    });
    this.employeeList = createEmployeeList({ serviceGet: (path) => this.serviceGet(path), usersByEmployee: () => this.usersByEmployee(), now });
  }

  /** The whole employee list for search (employeeList.ts), cached briefly. */
  employees(): ReturnType<EmployeeList['employees']> {
    return this.employeeList.employees();
  }

  // ------------------------------------------------------------ callers

  authenticate(username: string, password: string): Promise<void> {
    return this.callers.authenticate(username, password);
  }

  checkCaller(username: string): Promise<Omit<Caller, 'via' | 'session'>> {
    return this.callers.check(username);
  }

  whoAmI(bearerToken: string): Promise<string> {
    return this.callers.whoAmI(bearerToken);
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

  /** One employee by key with the service token, only the fields used; null when Vantagepoint has none (404 or `[]`). */
  private async employee(key: string): Promise<VantagepointEmployee | null> {
    const response = await this.serviceGet(`/employee/${encodeURIComponent(key)}?fieldFilter=${EMPLOYEE_FIELDS.join(',')}`);
    if (response.status === 404) return null;
    return parseKeyed(response, employeeSchema, 'GET /api/employee/{key}', (e) => e.Employee.toLowerCase() === key.toLowerCase());
  }

  /** Users indexed by employee key, from the paged user list; cached, one load at a time. */
  private async usersByEmployee(): Promise<Map<string, UserAssociation>> {
    const cached = this.userIndex.get('users');
    if (cached) return cached;
    return this.loadUserIndexOnce();
  }

  private async loadUserIndex(): Promise<Map<string, UserAssociation>> {
    const users = await readAllPages<VantagepointUser>({
      path: '/user',
      fetchPage: async (path) => parsePage(await this.serviceGet(path), userSchema.array(), 'GET /api/user'),
      key: (user) => user.Username.toLowerCase(),
      pageSize: this.userPageSize,
      maxPages: this.maxUserPages,
      what: 'user list (GET /api/user)',
    });
    const index = new Map<string, UserAssociation>();
    for (const user of users) addUser(index, user);
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

  async checkCredentials(): Promise<{ ok: boolean; message: string; rejected?: true; unknown?: true }> {
    try {
      await this.tokens.verify();
      return { ok: true, message: `Vantagepoint's token endpoint (${this.api.apiUrl}/token) accepted the client credentials.` };
    } catch (err) {
      // Refused: the credential itself is failing, which a person must fix ("failed"). No answer at
      // all only means it could not be checked ("unknown").
      return { ok: false, message: describeError(err), ...(err instanceof TokenRejectedError ? { rejected: true as const } : { unknown: true as const }) };
    }
  }

  health(): CredentialHealth {
    return this.tokens.health();
  }

  refreshCredentials(): Promise<CredentialHealth> {
    return this.tokens.renewAll();
  }
}

/** Several users may point at one employee: an active one wins. */
function addUser(index: Map<string, UserAssociation>, user: VantagepointUser): void {
  if (!user.Employee) return;
  const active = isActiveUserStatus(user.Status);
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
