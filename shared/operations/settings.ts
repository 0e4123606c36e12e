import { DEFAULT_GUARD, type GuardThreshold } from '../domain/guard';
import { ConflictError, PreconditionFailedError } from '../errors';
import type { ConnectSettings, SettingsStore } from '../ports';
import type { Services } from '../services';
import { actor, audit, CONNECT_SCOPE, etagMatches, type OperationContext } from './context';

type Deps = Pick<Services, 'storage'>;

/** The ETag of settings nobody has saved yet: If-Match with it succeeds only while that is still so. */
export const DEFAULT_SETTINGS_ETAG = '"defaults"';

const DEFAULTS: ConnectSettings = { notificationEmails: [], massRemovalGuard: DEFAULT_GUARD, updatedAt: null, updatedBy: null, etag: DEFAULT_SETTINGS_ETAG };

/** The stored settings, or the defaults (readers everywhere: the outbox, the guard). */
export async function readSettings(store: SettingsStore): Promise<ConnectSettings> {
  return (await store.get()) ?? DEFAULTS;
}

export async function getSettings(deps: Deps): Promise<ConnectSettings> {
  return readSettings(deps.storage.settings);
}

/** Concurrent saves without If-Match re-read and merge; each accepted change is audited once. */
const MAX_ATTEMPTS = 10;

/**
 * Read-modify-write under the settings' ETag: the fields given replace the stored ones,
 * the others are kept as they are now (merged against fresh state on a race).
 */
export async function putSettings(
  deps: Deps,
  input: { notificationEmails?: string[] | undefined; massRemovalGuard?: GuardThreshold | undefined; ifMatch: string | null },
  ctx: OperationContext,
): Promise<ConnectSettings> {
  for (let attempt = 1; ; attempt++) {
    const stored = await deps.storage.settings.get();
    const current = stored ?? DEFAULTS;
    if (!etagMatches(input.ifMatch, current.etag)) throw new PreconditionFailedError();
    const next = {
      notificationEmails: input.notificationEmails ?? current.notificationEmails,
      massRemovalGuard: input.massRemovalGuard ?? current.massRemovalGuard,
      updatedAt: ctx.now.toISOString(),
      updatedBy: actor(ctx),
    };
    let saved: ConnectSettings;
    try {
      saved = await deps.storage.settings.save(next, stored ? stored.etag : null);
    } catch (err) {
      const raced = err instanceof PreconditionFailedError || err instanceof ConflictError;
      if (raced && input.ifMatch === null && attempt < MAX_ATTEMPTS) continue;
      throw raced ? new PreconditionFailedError() : err;
    }
    await audit(deps.storage.audit, ctx, {
      action: 'settings.update',
      target: 'connect',
      from: { notificationEmails: current.notificationEmails, massRemovalGuard: current.massRemovalGuard },
      to: { notificationEmails: saved.notificationEmails, massRemovalGuard: saved.massRemovalGuard },
      scopes: [CONNECT_SCOPE],
    });
    return saved;
  }
}
