import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { VantagepointOAuthError, VantagepointRestError, VantagepointTokenResponse } from '../../../shared/adapters/vantagepoint/wire';

const REFRESH_TOKEN_LIFETIME_MS = 8 * 3600 * 1000;

interface IssuedToken {
  username: string;
  expiresAt: number;
}

/** An answer other than 200, in one of Vantagepoint's two error shapes (OAuth's, or the REST API's). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: VantagepointOAuthError | VantagepointRestError,
  ) {
    super(JSON.stringify(body));
  }
}

export const oauthError = (error: string, description: string) => new HttpProblem(400, { error, error_description: description });
export const restError = (status: number, message: string, detail: string) => new HttpProblem(status, { message, detail });

/**
 * Vantagepoint's OAuth token endpoint as Deltek documents it ("Get an Access Token"): the password
 * grant (with `Integrated: N` and the database), single-use refresh tokens, `invalid_client` for a
 * wrong client secret, and Bearer access tokens that expire.
 */
export class TokenEndpoint {
  private clientSecret: string;
  private readonly accessTokens = new Map<string, IssuedToken>();
  private readonly refreshTokens = new Map<string, IssuedToken>();
  readonly grants = { password: 0, refresh_token: 0 };

  constructor(
    private readonly options: {
      clientId: string;
      clientSecret: string;
      lifetimeSeconds: number;
      database: string;
      now: () => number;
      /** the user a password grant names, or null when the password is wrong or the user cannot sign in */
      signIn: (username: string, password: string) => string | null;
    },
  ) {
    this.clientSecret = options.clientSecret;
  }

  rotateSecret(secret: string): void {
    this.clientSecret = secret;
    this.revokeAll();
  }

  revokeAll(): void {
    this.accessTokens.clear();
    this.refreshTokens.clear();
  }

  /** POST /api/token */
  grant(form: URLSearchParams): VantagepointTokenResponse {
    // Vantagepoint's documented names mix cases (Client_Id for the password grant, client_id for refresh)
    const field = (name: string) => {
      for (const [key, value] of form) if (key.toLowerCase() === name) return value;
      return undefined;
    };
    const grantType = field('grant_type');
    if (!grantType) throw oauthError('invalid_request', 'grant_type is required.');
    if (grantType !== 'password' && grantType !== 'refresh_token') throw oauthError('unsupported_grant_type', `grant_type "${grantType}" is not supported.`);
    if (!field('client_id') || field('client_secret') === undefined) throw oauthError('invalid_request', 'client_id and client_secret are required.');
    if (field('client_id') !== this.options.clientId || !sameSecret(field('client_secret') ?? '', this.clientSecret)) {
      throw oauthError('invalid_client', 'The client id or client secret is not valid.');
    }
    // multi-database installations need the database on every grant, the refresh grant included:
    // a grant without the field, or naming another database, is refused
    const database = field('database');
    if (database === undefined || database.toLowerCase() !== this.options.database.toLowerCase()) {
      throw oauthError('invalid_request', database === undefined ? 'database is required.' : `The database "${database}" is not available.`);
    }
    const username = grantType === 'password' ? this.passwordOwner(field) : this.refreshTokenOwner(field('refresh_token'));
    this.grants[grantType] += 1;
    return this.issue(username);
  }

  private passwordOwner(field: (name: string) => string | undefined): string {
    const username = field('username');
    const password = field('password');
    if (!username || password === undefined) throw oauthError('invalid_request', 'Username and Password are required.');
    if ((field('integrated') ?? 'N').toUpperCase() !== 'N') throw oauthError('invalid_request', 'Integrated (Windows) authentication is not available.');
    const owner = this.options.signIn(username, password);
    if (!owner) throw oauthError('invalid_grant', 'The user name or password is incorrect.');
    return owner;
  }

  private refreshTokenOwner(refreshToken: string | undefined): string {
    if (!refreshToken) throw oauthError('invalid_request', 'refresh_token is required.');
    const issued = this.refreshTokens.get(refreshToken);
    this.refreshTokens.delete(refreshToken); // refresh tokens are single use
    if (!issued || this.options.now() >= issued.expiresAt) throw oauthError('invalid_grant', 'The refresh token is invalid or expired.');
    return issued.username;
  }

  private issue(username: string): VantagepointTokenResponse {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(24).toString('base64url');
    this.accessTokens.set(access, { username, expiresAt: this.options.now() + this.options.lifetimeSeconds * 1000 });
    this.refreshTokens.set(refresh, { username, expiresAt: this.options.now() + REFRESH_TOKEN_LIFETIME_MS });
    return { access_token: access, token_type: 'bearer', expires_in: this.options.lifetimeSeconds, refresh_token: refresh };
  }

  /** The signed-in user's name, or 401 like Vantagepoint. */
  authenticate(authorization: string | undefined): string {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const issued = token ? this.accessTokens.get(token) : undefined;
    if (!token || !issued || this.options.now() >= issued.expiresAt) {
      throw restError(401, 'Authorization has been denied for this request.', 'The access token is missing, invalid or expired.');
    }
    return issued.username;
  }
}

/** Constant-time comparison of equal-length digests, so response timing reveals nothing about a secret. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
