import type { HttpRequest } from '@azure/functions';
import ipaddr from 'ipaddr.js';
import type { CallerCredentials } from '../domain/model';

/**
 * The header and cookie names of the admin API's authentication (docs/VANTAGEPOINT.md,
 * "Signing in"; also in the OpenAPI document's security schemes).
 */
export const AUTH_HEADERS = {
  /** the Vantagepoint admin form's key (server to server) */
  formKey: 'x-connect-form-key',
  /** the Vantagepoint username acting in the admin form */
  actingUser: 'x-connect-acting-user',
  /** the session's csrfToken, on cookie-authenticated writes */
  csrfToken: 'x-csrf-token',
} as const;

/**
 * The session cookie. Outside development it is Secure, so it takes the `__Host-` prefix
 * (the browser then refuses it without Secure, Path=/ and no Domain). Both names are read.
 */
export const SESSION_COOKIE = { secure: '__Host-connect-session', development: 'connect-session' } as const;

const MAX_CREDENTIAL_CHARS = 8192;

function header(req: HttpRequest, name: string): string | null {
  const value = req.headers.get(name);
  return value === null || value.length > MAX_CREDENTIAL_CHARS ? null : value;
}

function bearerOf(req: HttpRequest): string | null {
  const value = header(req, 'authorization');
  if (value === null) return null;
  const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(value);
  // a malformed Authorization header is still an attempt: it must not fall through to the cookie
  return match?.[1] ?? '';
}

export function cookieValue(req: HttpRequest, name: string): string | null {
  const cookies = header(req, 'cookie');
  if (cookies === null) return null;
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** What the request offers to prove who is calling; the operations decide what it is worth. */
export function callerCredentials(req: HttpRequest): CallerCredentials {
  return {
    method: req.method,
    bearer: bearerOf(req),
    cookie: cookieValue(req, SESSION_COOKIE.secure) ?? cookieValue(req, SESSION_COOKIE.development),
    csrfToken: header(req, AUTH_HEADERS.csrfToken),
    formKey: header(req, AUTH_HEADERS.formKey),
    actingUser: header(req, AUTH_HEADERS.actingUser),
  };
}

/**
 * The client's address for sign-in throttling. Azure's front end appends the address it saw to
 * X-Forwarded-For (sometimes with a port), so the last entry is the one a client cannot forge;
 * the development host does the same. Anything unparsable counts as "unknown" (one shared bucket).
 */
export function clientAddress(req: HttpRequest): string {
  const forwarded = req.headers.get('x-forwarded-for') ?? '';
  const last = forwarded.split(',').pop()?.trim() ?? '';
  const candidates = [last, last.replace(/^\[(.*)\](:\d+)?$/, '$1'), last.replace(/:\d+$/, '')];
  for (const candidate of candidates) {
    if (ipaddr.isValid(candidate)) {
      const parsed = ipaddr.process(candidate); // IPv4-mapped IPv6 → IPv4
      return parsed.toNormalizedString();
    }
  }
  return 'unknown';
}
