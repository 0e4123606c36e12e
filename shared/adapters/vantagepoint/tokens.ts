import type { Config } from '../../config';
import { AppError, ServiceUnavailableError } from '../../errors';
import type { CredentialHealth, SecretSource } from '../../ports';
import { secretNames } from '../secrets';
import type { VantagepointApi } from './api';
import { oauthErrorSchema, tokenResponseSchema } from './wire';

type Grant = 'password' | 'refresh_token';

/** Vantagepoint refused a token request (OAuth error). */
export class TokenRejectedError extends ServiceUnavailableError {
  constructor(
    readonly grant: Grant,
    readonly oauthError: string,
    description: string,
  ) {
    super('vantagepoint', `Vantagepoint refused the service credentials (${oauthError}${description ? `: ${description}` : ''}).`);
  }

  /** A rotated client secret shows as invalid_client; a rotated service password as invalid_grant on the password grant. */
  get mayBeStaleSecret(): boolean {
    return this.oauthError === 'invalid_client' || (this.grant === 'password' && this.oauthError === 'invalid_grant');
  }
}

interface Credentials {
  clientSecret: string;
  password: string;
  /** both secrets' versions: tokens acquired with other versions are stale */
  versions: string;
}

interface HeldToken {
  accessToken: string;
  refreshToken: string;
  /** epoch ms: renew from here on (before the real expiry) */
  renewAt: number;
  versions: string;
}

/** Renew when less than 60 s or 10 % of the lifetime remains, whichever comes first for short-lived tokens. */
function renewalMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs * 0.1);
}

export function describeError(err: unknown): string {
  if (err instanceof AppError || err instanceof Error) return err.message;
  return String(err);
}

/**
 * The service account's Vantagepoint tokens. One token request at a time (concurrent callers
 * share it); refresh-token grant before expiry, password grant otherwise; tokens are dropped
 * when either secret's version changes (rotation, SPEC §2), and a token call refused for a
 * possibly stale secret is retried once with freshly read secrets.
 */
export class ServiceTokens {
  private held: HeldToken | undefined;
  private inFlight: Promise<string> | undefined;
  private secretVersion: string | null = null;
  private lastTokenAt: string | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly config: Config,
    private readonly secrets: SecretSource,
    private readonly api: VantagepointApi,
    private readonly now: () => number,
  ) {}

  /** A valid access token for the service account. */
  async accessToken(): Promise<string> {
    const credentials = await this.readCredentials(false);
    if (this.held && this.held.versions !== credentials.versions) this.held = undefined;
    if (this.held && this.now() < this.held.renewAt) return this.held.accessToken;
    return this.acquire(false);
  }

  /** Acquires a token now with the password grant: proves the credentials are accepted. */
  async verify(): Promise<void> {
    await this.acquire(true);
  }

  /** Vantagepoint answered 401 to this token (revoked): forget it so the next call acquires a new one. */
  discard(accessToken: string): void {
    if (this.held?.accessToken === accessToken) this.held = undefined;
  }

  /** Re-reads both secrets and re-acquires tokens; failures are reported in the health, not thrown. */
  async renewAll(): Promise<CredentialHealth> {
    try {
      await this.readCredentials(true);
      this.held = undefined;
      await this.acquire(true);
    } catch {
      // recorded in lastError by readCredentials / acquire
    }
    return this.health();
  }

  health(): CredentialHealth {
    return {
      ok: this.lastTokenAt !== null && this.lastError === null,
      secretVersion: this.secretVersion,
      lastTokenAt: this.lastTokenAt,
      lastError: this.lastError,
      secretSource: this.secrets.kind,
    };
  }

  private acquire(passwordOnly: boolean): Promise<string> {
    this.inFlight ??= this.obtain(passwordOnly).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async obtain(passwordOnly: boolean): Promise<string> {
    try {
      const held = await this.grantWithOneRetry(await this.readCredentials(false), passwordOnly);
      this.held = held;
      this.lastTokenAt = new Date(this.now()).toISOString();
      this.lastError = null;
      return held.accessToken;
    } catch (err) {
      if (err instanceof TokenRejectedError) this.held = undefined;
      this.lastError = describeError(err);
      throw err;
    }
  }

  private async grantWithOneRetry(credentials: Credentials, passwordOnly: boolean): Promise<HeldToken> {
    try {
      return await this.grant(credentials, passwordOnly);
    } catch (err) {
      if (!(err instanceof TokenRejectedError && err.mayBeStaleSecret)) throw err;
      return this.passwordGrant(await this.readCredentials(true));
    }
  }

  private async grant(credentials: Credentials, passwordOnly: boolean): Promise<HeldToken> {
    const held = this.held;
    if (!passwordOnly && held && held.refreshToken && held.versions === credentials.versions) {
      try {
        return await this.refreshGrant(held.refreshToken, credentials);
      } catch (err) {
        // Any refusal (expired or revoked refresh token, a server that does not do refresh grants,
        // an answer that is not OAuth at all) drops the held tokens and falls back once to the
        // password grant; only an unreachable server is passed on as it is.
        if (!(err instanceof TokenRejectedError)) throw err;
        this.held = undefined;
      }
    }
    return this.passwordGrant(credentials);
  }

  private passwordGrant(credentials: Credentials): Promise<HeldToken> {
    return this.request('password', credentials, this.passwordForm(this.config.VANTAGEPOINT_SERVICE_USERNAME, credentials.password, credentials));
  }

  /** "Get an Access Token": the password grant's form fields, exactly as Deltek names them. */
  private passwordForm(username: string, password: string, credentials: Credentials): Record<string, string> {
    return {
      grant_type: 'password',
      Username: username,
      Password: password,
      Integrated: 'N',
      database: this.config.VANTAGEPOINT_DATABASE,
      Client_Id: this.config.VANTAGEPOINT_CLIENT_ID,
      client_secret: credentials.clientSecret,
    };
  }

  private refreshGrant(refreshToken: string, credentials: Credentials): Promise<HeldToken> {
    return this.request('refresh_token', credentials, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: this.config.VANTAGEPOINT_CLIENT_ID,
      client_secret: credentials.clientSecret,
      database: this.config.VANTAGEPOINT_DATABASE,
    });
  }

  /**
   * A person's own password grant (sign-in), with the service's API Authorization client. Proves
   * the password; the tokens it yields are dropped. A refusal for a possibly rotated client secret
   * is retried once with a freshly read secret. Throws TokenRejectedError (invalid_grant: wrong
   * username or password).
   */
  async userPasswordGrant(username: string, password: string): Promise<void> {
    const attempt = async (fresh: boolean) => {
      const credentials = await this.readCredentials(fresh);
      await this.request('password', credentials, this.passwordForm(username, password, credentials));
    };
    try {
      await attempt(false);
    } catch (err) {
      if (!(err instanceof TokenRejectedError && err.oauthError === 'invalid_client')) throw err;
      await attempt(true);
    }
  }

  private async request(grant: Grant, credentials: Credentials, form: Record<string, string>): Promise<HeldToken> {
    const requestedAt = this.now();
    const response = await this.api.postToken(form);
    const token = tokenResponseSchema.safeParse(response.body);
    if (response.status === 200 && token.success) {
      const lifetimeMs = token.data.expires_in * 1000;
      return {
        accessToken: token.data.access_token,
        refreshToken: token.data.refresh_token,
        renewAt: requestedAt + lifetimeMs - renewalMarginMs(lifetimeMs),
        versions: credentials.versions,
      };
    }
    const oauth = oauthErrorSchema.safeParse(response.body);
    if (oauth.success) throw new TokenRejectedError(grant, oauth.data.error, oauth.data.error_description);
    throw new TokenRejectedError(grant, `http_${response.status}`, 'the token endpoint gave no OAuth answer');
  }

  private async readCredentials(fresh: boolean): Promise<Credentials> {
    const names = secretNames(this.config);
    const read = (name: string) => (fresh ? this.secrets.refresh(name) : this.secrets.get(name));
    try {
      const [clientSecret, password] = await Promise.all([read(names.clientSecret), read(names.servicePassword)]);
      this.secretVersion = clientSecret.version;
      return {
        clientSecret: clientSecret.value,
        password: password.value,
        versions: `${clientSecret.version}/${password.version}`,
      };
    } catch (err) {
      this.lastError = describeError(err);
      throw err;
    }
  }
}
