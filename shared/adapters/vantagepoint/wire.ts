import { z } from 'zod';

/**
 * Vantagepoint REST shapes the service relies on, with field names exactly as Vantagepoint
 * spells them. The client parses answers with these schemas (tolerating nulls and extra
 * fields); the development emulator produces the same types, so both speak one wire format.
 */

/** Vantagepoint sends null for empty fields; the service treats null and '' alike. */
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

/** `POST /api/token` success. */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  /** seconds */
  expires_in: z.coerce.number().positive(),
  refresh_token: text,
});
export type VantagepointTokenResponse = z.output<typeof tokenResponseSchema>;

/** `POST /api/token` failure (OAuth style). */
export const oauthErrorSchema = z.object({ error: z.string(), error_description: text });
export type VantagepointOAuthError = z.output<typeof oauthErrorSchema>;

/** Every other REST failure. */
export interface VantagepointRestError {
  message: string;
  detail: string;
}

/** `GET /api/user`, `GET /api/user/{username}`, `GET /api/user/current`. */
export const userSchema = z.object({
  Username: z.string().min(1),
  /** employee key; empty when the user is not associated with an employee */
  Employee: text,
  /** "Active" / "Inactive" */
  Status: text,
  EmployeeStatus: text,
  EmployeeName: text,
  /** security role */
  Role: text,
});
export type VantagepointUser = z.output<typeof userSchema>;

/** `GET /api/employee`, `GET /api/employee/{key}`. */
export const employeeSchema = z.object({
  Employee: z.string().min(1),
  FirstName: text,
  LastName: text,
  EMail: text,
  /** A active, I inactive, T terminated */
  Status: text,
});
export type VantagepointEmployee = z.output<typeof employeeSchema>;

/** Largest page Vantagepoint serves for list calls. */
export const MAX_PAGE_SIZE = 1000;
