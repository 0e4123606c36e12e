/**
 * App-only tokens for Microsoft Graph.
 *
 * In Azure: @azure/identity — ClientSecretCredential when a client secret is
 * configured, else the Function App's managed identity. Against the local emulator
 * the authority is plain http, which @azure/identity refuses outright ("The
 * authorityHost address must use the 'https' protocol", thrown by its IdentityClient
 * before MSAL is reached; MSAL's Authority also rejects non-https). For that case
 * only — development mode — a minimal client-credentials request is made directly.
 */
import { ClientSecretCredential, ManagedIdentityCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import type { Config } from '../../config';
import type { SecretSource, SecretValue } from '../../ports';
import { singleFlight } from '../../util/singleFlight';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** Tokens are reused until this long before they expire. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

export interface RefreshableCredential extends TokenCredential {
  getToken(scopes: string | string[]): Promise<AccessToken>;
  /** Drops the cached token (Graph answered 401). */
  invalidate(): void;
}

/** Caches a token until 5 minutes before expiry; concurrent callers share one request. */
export class CachedCredential implements RefreshableCredential {
  private token: AccessToken | null = null;
  private readonly fetchOnce = singleFlight((scopes: string | string[]) => this.fetchToken(scopes));

  constructor(
    private readonly inner: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    if (this.token && this.now() < this.token.expiresOnTimestamp - REFRESH_BEFORE_EXPIRY_MS) return this.token;
    return this.fetchOnce(scopes);
  }

  invalidate(): void {
    this.token = null;
  }

  private async fetchToken(scopes: string | string[]): Promise<AccessToken> {
    const token = await this.inner.getToken(scopes);
    if (!token) throw new Error('The credential returned no token.');
    this.token = token;
    return token;
  }
}

export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(`Token request failed: ${status} ${error}`);
    this.name = 'TokenRequestError';
  }
}

/** The OAuth 2.0 client-credentials grant, for an http authority (the emulator). */
export class PlainClientCredential implements TokenCredential {
  constructor(
    private readonly authorityHost: string,
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      client_secret: this.clientSecret,
      scope: Array.isArray(scopes) ? scopes.join(' ') : scopes,
    });
    const response = await this.fetchImpl(`${this.authorityHost}/${encodeURIComponent(this.tenantId)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new TokenRequestError(response.status, body.error ?? 'invalid_response');
    }
    return { token: body.access_token, expiresOnTimestamp: Date.now() + (body.expires_in ?? 3599) * 1000 };
  }
}

interface SecretHandle {
  get(): Promise<SecretValue>;
  refresh(): Promise<SecretValue>;
}

/**
 * A client-secret credential that follows secret rotation: it rebuilds the inner
 * credential when the secret's version changes and, when the identity platform
 * rejects the client, re-reads the secret once and tries again.
 */
class RotatingSecretCredential implements TokenCredential {
  private current: { version: string; credential: TokenCredential } | null = null;

  constructor(
    private readonly secret: SecretHandle,
    private readonly build: (secret: string) => TokenCredential,
  ) {}

  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    try {
      return await this.credentialFor(await this.secret.get()).getToken(scopes);
    } catch (err) {
      if (!isInvalidClient(err)) throw err;
      return this.credentialFor(await this.secret.refresh()).getToken(scopes);
    }
  }

  private credentialFor(secret: SecretValue): TokenCredential {
    if (this.current?.version !== secret.version) this.current = { version: secret.version, credential: this.build(secret.value) };
    return this.current.credential;
  }
}

function isInvalidClient(err: unknown): boolean {
  if (err instanceof TokenRequestError) return err.error === 'invalid_client' || err.status === 401;
  const message = err instanceof Error ? err.message : '';
  // AADSTS7000215: invalid secret; AADSTS7000222: expired secret.
  return /invalid_client|AADSTS7000215|AADSTS7000222/.test(message);
}

function secretHandle(config: Config, secrets: SecretSource): SecretHandle | null {
  const name = config.GRAPH_CLIENT_SECRET_NAME;
  if (name) return { get: () => secrets.get(name), refresh: () => secrets.refresh(name) };
  const literal = config.GRAPH_CLIENT_SECRET;
  if (!literal) return null;
  const value: SecretValue = { value: literal, version: 'configuration', updatedOn: null };
  return { get: () => Promise.resolve(value), refresh: () => Promise.resolve(value) };
}

/** Chooses and builds the Graph credential from configuration (see the file comment). */
export function createGraphCredential(config: Config, secrets: SecretSource, fetchImpl: typeof fetch = fetch): RefreshableCredential {
  const secret = secretHandle(config, secrets);
  if (!secret) {
    const clientId = config.AzureWebJobsStorage__clientId;
    return new CachedCredential(clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential());
  }
  const tenantId = config.GRAPH_TENANT_ID;
  const clientId = config.GRAPH_CLIENT_ID;
  if (!tenantId || !clientId) throw new Error('GRAPH_TENANT_ID and GRAPH_CLIENT_ID are required when a Graph client secret is configured.');
  const authority = config.GRAPH_AUTHORITY_HOST;
  const insecure = authority.startsWith('http:');
  if (insecure && config.CONNECT_ENVIRONMENT !== 'development') {
    throw new Error('GRAPH_AUTHORITY_HOST must use https outside development.');
  }
  const build = insecure
    ? (value: string): TokenCredential => new PlainClientCredential(authority, tenantId, clientId, value, fetchImpl)
    : (value: string): TokenCredential => new ClientSecretCredential(tenantId, clientId, value, { authorityHost: authority });
  return new CachedCredential(new RotatingSecretCredential(secret, build));
}
