import { z } from 'zod';
import { canonicalEmployeeId } from '../../domain/employee';
import type { DirectoryEntry } from '../../domain/employeeSearch';
import type { EmployeeList } from '../../ports';
import { singleFlight } from '../../util/singleFlight';
import type { ApiResponse } from './api';
import { TtlCache } from './cache';
import { readAllPages } from './paging';
import { parsePage } from './parse';
import { CLIENT_PAGE_SIZE, EMPLOYEE_FIELDS, employeeSchema, type VantagepointEmployee } from './wire';

/**
 * How long one read of the employee list serves searches. Typing in a search box asks once per
 * pause; without this every pause would page through all of Vantagepoint. A person hired a
 * minute ago may be missing from a search for this long (adding by id still works at once).
 */
export const EMPLOYEE_LIST_TTL_MS = 60_000;
/**
 * 500 pages of 100: the list held in memory is bounded (about 100 bytes an employee, so at most
 * a few MB); past it the read fails loudly (503) instead of growing without limit.
 */
export const MAX_EMPLOYEE_PAGES = 500;

interface Reader {
  serviceGet(path: string): Promise<ApiResponse>;
  /** the user association by canonical employee id (the directory's cached user index) */
  usersByEmployee(): Promise<Map<string, { username: string; active: boolean }>>;
  now: () => number;
  pageSize?: number;
  maxPages?: number;
}

/** Records are checked one by one: a record without an employee key is skipped, not fatal to the list. */
const anyRecords = z.array(z.unknown());

/**
 * The employee list behind GET /api/employees (search): `GET /api/employee?fieldFilter=…` read
 * page by page (paging.ts), joined with the user list the member prerequisites already use, kept
 * for EMPLOYEE_LIST_TTL_MS. One copy per instance (the cache holds one entry); concurrent
 * searches while it loads share the one read.
 */
export function createEmployeeList(reader: Reader): EmployeeList {
  const cache = new TtlCache<{ entries: DirectoryEntry[]; readAt: string }>(EMPLOYEE_LIST_TTL_MS, reader.now, 1);
  const load = singleFlight(async () => {
    const [employees, users] = await Promise.all([
      readAllPages<VantagepointEmployee>({
        path: `/employee?fieldFilter=${EMPLOYEE_FIELDS.join(',')}`,
        fetchPage: async (path) => {
          const records = parsePage(await reader.serviceGet(path), anyRecords, 'GET /api/employee');
          return records?.flatMap((r) => {
            const parsed = employeeSchema.safeParse(r);
            return parsed.success ? [parsed.data] : [];
          }) ?? null;
        },
        key: (e) => canonicalEmployeeId(e.Employee),
        pageSize: reader.pageSize ?? CLIENT_PAGE_SIZE,
        maxPages: reader.maxPages ?? MAX_EMPLOYEE_PAGES,
        what: 'employee list (GET /api/employee)',
      }),
      reader.usersByEmployee(),
    ]);
    const entries = employees.map(
      (e): DirectoryEntry => ({
        employeeId: canonicalEmployeeId(e.Employee),
        firstName: e.FirstName.trim(),
        lastName: e.LastName.trim(),
        email: e.EMail.trim(),
        employeeStatus: e.Status,
        user: users.get(canonicalEmployeeId(e.Employee)) ?? null,
      }),
    );
    const value = { entries, readAt: new Date(reader.now()).toISOString() };
    cache.set('employees', value);
    return value;
  });
  return {
    employees: () => Promise.resolve(cache.get('employees') ?? load()),
  };
}
