import { createHash, randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ServiceUnavailableError } from '../../errors';
import { parseRotatingKeys } from '../secrets/rotatingKeys';
import type { IssuedSession, SecretSource, SessionClaims, SessionSigner } from '../../ports';

/** Issuer and audience of the service's session tokens: a token minted for anything else is refused. */
const ISSUER = 'connect-sync';
const AUDIENCE = 'connect-sync-admin';
interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

/**
 * Parses the signing-keys secret: one key, or two during a rotation ("new,old"), separated by
 * commas or whitespace. The first signs; every one verifies. Each key's id is a digest prefix,
 * so a token names its key without revealing it.
 */
export function parseSigningKeys(value: string): SigningKey[] {
  const keys = parseRotatingKeys(value, 'session-keys', 'session signing keys');
  return keys.map((k) => ({ kid: createHash('sha256').update(k, 'utf8').digest('base64url').slice(0, 12), secret: new TextEncoder().encode(k) }));
}

/**
 * Session tokens: compact JWS (HS256, via jose) carrying the username, a session id (for
 * sign-out) and the session's CSRF token; short-lived (SESSION_LIFETIME_MINUTES). The keys come
 * from Key Vault (the environment in development) and are re-read through the secret source, so a
 * rotation needs no restart.
 */
export class JoseSessionSigner implements SessionSigner {
  constructor(
    private readonly secrets: SecretSource,
    private readonly secretName: string,
    private readonly lifetimeMinutes: number,
  ) {}

  async issue(username: string, now: Date): Promise<IssuedSession> {
    const [key] = await this.keys();
    if (!key) throw new ServiceUnavailableError('session-keys', 'No session signing key is configured.');
    const id = randomBytes(16).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAtSeconds = issuedAt + this.lifetimeMinutes * 60;
    const token = await new SignJWT({ csrf: csrfToken })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(username)
      .setJti(id)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAtSeconds)
      .sign(key.secret);
    return { token, id, csrfToken, expiresAt: new Date(expiresAtSeconds * 1000).toISOString() };
  }

  async verify(token: string, now: Date): Promise<SessionClaims | null> {
    const keys = await this.keys();
    try {
      const { payload } = await jwtVerify(token, ({ kid }) => keyFor(keys, kid), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: now,
        clockTolerance: 0,
      });
      if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.csrf !== 'string' || typeof payload.exp !== 'number') {
        return null;
      }
      return { id: payload.jti, username: payload.sub, csrfToken: payload.csrf, expiresAt: new Date(payload.exp * 1000).toISOString() };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null; // malformed, tampered, unknown key or expired: not a session
      throw err;
    }
  }

  private async keys(): Promise<SigningKey[]> {
    return parseSigningKeys((await this.secrets.get(this.secretName)).value);
  }
}

function keyFor(keys: SigningKey[], kid: string | undefined): Uint8Array {
  const key = keys.find((k) => k.kid === kid);
  if (!key) throw new joseErrors.JWKSNoMatchingKey();
  return key.secret;
}
