import fc from 'fast-check';
import { JoseSessionSigner, parseSigningKeys } from '../../shared/adapters/session/signer';
import { afterFailure, lockedForSeconds } from '../../shared/domain/throttle';
import type { SecretSource } from '../../shared/ports';

const KEY_A = 'first-session-signing-key-0123456789abcdef';
const KEY_B = 'second-session-signing-key-0123456789abcdef';

/** A secret source whose one value the test sets (a Key Vault secret's current version). */
function secrets(initial: string): SecretSource & { value: string } {
  const source = {
    kind: 'environment' as const,
    value: initial,
    get: async () => ({ value: source.value, version: 'v', updatedOn: null }),
    refresh: async () => ({ value: source.value, version: 'v', updatedOn: null }),
  };
  return source;
}

const T0 = new Date('2026-01-01T10:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

describe('session tokens (jose, HS256)', () => {
  it('verifies its own token until it expires, then refuses it', async () => {
    const signer = new JoseSessionSigner(secrets(KEY_A), 'keys', 30);
    const issued = await signer.issue('admin', T0);
    expect(issued.expiresAt).toBe(minutes(30).toISOString());
    expect(await signer.verify(issued.token, minutes(29))).toEqual({ id: issued.id, username: 'admin', csrfToken: issued.csrfToken, expiresAt: issued.expiresAt });
    expect(await signer.verify(issued.token, minutes(30))).toBeNull();
  });

  it('accepts both keys during a rotation ("new,old"), signs with the first, and drops the old one after', async () => {
    const source = secrets(KEY_A);
    const signer = new JoseSessionSigner(source, 'keys', 30);
    const old = await signer.issue('admin', T0);
    source.value = `${KEY_B},${KEY_A}`;
    expect(await signer.verify(old.token, minutes(1))).toMatchObject({ username: 'admin' });
    const fresh = await signer.issue('admin', minutes(1));
    source.value = KEY_B;
    expect(await signer.verify(fresh.token, minutes(2))).toMatchObject({ username: 'admin' });
    expect(await signer.verify(old.token, minutes(2))).toBeNull();
  });

  it('refuses tampered tokens and arbitrary strings', async () => {
    const signer = new JoseSessionSigner(secrets(KEY_A), 'keys', 30);
    const { token } = await signer.issue('admin', T0);
    const [h, p, sig] = token.split('.') as [string, string, string];
    const otherPayload = Buffer.from(JSON.stringify({ sub: 'jdoe' })).toString('base64url');
    expect(await signer.verify(`${h}.${otherPayload}.${sig}`, T0)).toBeNull();
    expect(await signer.verify(`${h}.${p}.${sig.slice(0, -2)}AA`, T0)).toBeNull();
    await fc.assert(fc.asyncProperty(fc.string(), async (garbage) => expect(await signer.verify(garbage, T0)).toBeNull()), { numRuns: 50 });
  });

  it('refuses a token signed with a key it does not hold', async () => {
    const { token } = await new JoseSessionSigner(secrets(KEY_B), 'keys', 30).issue('admin', T0);
    expect(await new JoseSessionSigner(secrets(KEY_A), 'keys', 30).verify(token, T0)).toBeNull();
  });

  it('needs one or two keys of at least 32 characters', () => {
    expect(parseSigningKeys(`${KEY_A}, ${KEY_B}`)).toHaveLength(2);
    for (const bad of ['', 'short', `${KEY_A},${KEY_B},${KEY_A}x`]) expect(() => parseSigningKeys(bad)).toThrow(/one or two keys/);
  });
});

describe('sign-in throttling rule', () => {
  it('locks a key that reached the limit until its window closes, and starts over after', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 0, max: 7200 }), (limit, window, laterSeconds) => {
        let state = null as ReturnType<typeof afterFailure> | null;
        for (let i = 0; i < limit; i++) state = afterFailure(state, T0, window);
        const later = new Date(T0.getTime() + laterSeconds * 1000);
        const wait = lockedForSeconds(state, later, limit, window);
        expect(wait).toBe(laterSeconds < window ? window - laterSeconds : 0);
        expect(lockedForSeconds(state, later, limit + 1, window)).toBe(0);
        if (laterSeconds >= window) expect(afterFailure(state, later, window)).toEqual({ failures: 1, windowStart: later.toISOString() });
      }),
    );
  });
});
