import { z } from 'zod';

/**
 * Vantagepoint REST shapes the service relies on, with field names exactly as Deltek spells
 * them (sources: Deltek's API reference "Get an Access Token", "Pagination", "Responses", and
 * Deltek's public Postman collection; samples kept in test/fixtures/vantagepoint/). The client
 * parses answers with these schemas, tolerating nulls and the ~200 fields it does not use; the
 * emulator produces the same types and nothing more.
 */

/** Vantagepoint sends null for empty fields; the service treats null and '' alike. */
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

/** `POST /api/token` success ("Get an Access Token"). */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  /** seconds (Deltek's sample: 1799) */
  expires_in: z.coerce.number().positive(),
  refresh_token: text,
});
export type VantagepointTokenResponse = z.output<typeof tokenResponseSchema>;

/** `POST /api/token` failure (OAuth style: invalid_grant, invalid_client, ...). */
export const oauthErrorSchema = z.object({ error: z.string(), error_description: text });
export type VantagepointOAuthError = z.output<typeof oauthErrorSchema>;

/** Every other REST failure ("Responses"): `{message, detail}`; the casing is not established, so any is read. */
export interface VantagepointRestError {
  message: string;
  detail: string;
}

/** `GET /api/user`, `GET /api/user/{username}` (Postman collection: the user list). */
export const userSchema = z.object({
  Username: z.string().min(1),
  DisplayUsername: text,
  /** employee key; empty when the user is not associated with an employee */
  Employee: text,
  /** "A" active / "I" inactive */
  Status: text,
  EmployeeStatus: text,
  EmployeeName: text,
  /**
   * Not in Deltek's documented sample. Some installations may return the user's security role;
   * where one is present it decides (CONNECT_ADMIN_ROLES), otherwise CONNECT_ADMIN_USERS does.
   */
  Role: z.string().nullish(),
});
export type VantagepointUser = z.output<typeof userSchema>;

/** `GET /api/employee/{key}` (Postman collection: the employee record; ~200 fields, only these are read). */
export const employeeSchema = z.object({
  Employee: z.string().min(1),
  FirstName: text,
  LastName: text,
  EMail: text,
  /** A active, I inactive, T terminated (code table CFGEmployeeStatus) */
  Status: text,
});
export type VantagepointEmployee = z.output<typeof employeeSchema>;

/** The employee fields the service reads, asked for with `fieldFilter` instead of the whole record. */
export const EMPLOYEE_FIELDS = ['Employee', 'FirstName', 'LastName', 'EMail', 'Status'] as const;

/**
 * Page size the client asks for. Deltek documents neither a default nor a maximum, so the
 * client never trusts it was honoured: it reads until a short or empty page (paging.ts).
 */
export const CLIENT_PAGE_SIZE = 100;
/** The emulator's cap, below what a careless client might ask for, so clients must follow pages. */
export const EMULATOR_MAX_PAGE_SIZE = 100;

/**
 * Deltek's user Status "A" (some versions spell it out: "Active"). A record without a Status
 * (a server or field filter that leaves it out: Deltek documents only A and I) is not taken as
 * inactive, as an employee without one is not: only a status that says otherwise fails. The
 * caller check and the member prerequisites read it alike.
 */
export function isActiveUserStatus(status: string): boolean {
  const s = status.trim().toLowerCase();
  return s === '' || s === 'a' || s === 'active';
}

/**
 * "Responses": every answer is a JSON array, single-record look-ups included; a single object is
 * still accepted. A missing record is `200 []` (or a 404, handled by the caller).
 */
export function singleRecord(body: unknown): { found: true; record: unknown } | { found: false } | { malformed: true } {
  if (Array.isArray(body)) return body.length === 0 ? { found: false } : { found: true, record: body[0] };
  if (typeof body === 'object' && body !== null) return { found: true, record: body };
  return { malformed: true };
}

/** `{message, detail}` of a REST error in any casing (`Message`, `DETAIL`, ...). */
export function restErrorOf(body: unknown): VantagepointRestError | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const lower = new Map(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  const message = lower.get('message');
  const detail = lower.get('detail');
  if (typeof message !== 'string' && typeof detail !== 'string') return null;
  return { message: typeof message === 'string' ? message : '', detail: typeof detail === 'string' ? detail : '' };
}
