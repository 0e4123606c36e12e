import type { Config } from '../config';
import { SESSION_COOKIE } from './credentials';

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (never sent from another
 * site), Path=/; Secure with the `__Host-` prefix outside development (plain-http localhost
 * cannot keep a Secure cookie).
 */
export function sessionCookie(config: Pick<Config, 'CONNECT_ENVIRONMENT'>, token: string, expiresAt: string): string {
  const maxAge = Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000));
  return cookie(config, token, maxAge);
}

/** Clears the session cookie (sign-out). */
export function clearedSessionCookie(config: Pick<Config, 'CONNECT_ENVIRONMENT'>): string {
  return cookie(config, '', 0);
}

function cookie(config: Pick<Config, 'CONNECT_ENVIRONMENT'>, value: string, maxAge: number): string {
  const development = config.CONNECT_ENVIRONMENT === 'development';
  const name = development ? SESSION_COOKIE.development : SESSION_COOKIE.secure;
  return [`${name}=${value}`, 'Path=/', `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Strict', ...(development ? [] : ['Secure'])].join('; ');
}
