import type { TableClient } from '@azure/data-tables';
import { DEFAULT_GUARD } from '../../domain/guard';
import { ConflictError, PreconditionFailedError } from '../../errors';
import type { ConnectSettings, MailHealthStore, SettingsStore } from '../../ports';
import { etagOf, json, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity } from './limits';

/**
 * Table Settings, partition `connect`: row `settings` (the Settings tab, written only by
 * PUT /api/connect/settings, ETag-guarded) and row `mail-health` (written only by the
 * notification outbox; derived, last writer wins).
 */
const PARTITION = 'connect';
const SETTINGS_ROW = 'settings';
const MAIL_HEALTH_ROW = 'mail-health';

function toSettings(row: Row): ConnectSettings {
  const guard = json<Partial<ConnectSettings['massRemovalGuard']>>(row, 'massRemovalGuard', {});
  return {
    notificationEmails: json<string[]>(row, 'notificationEmails', []),
    massRemovalGuard: {
      percent: typeof guard.percent === 'number' ? guard.percent : DEFAULT_GUARD.percent,
      minimum: typeof guard.minimum === 'number' ? guard.minimum : DEFAULT_GUARD.minimum,
    },
    updatedAt: textOrNull(row, 'updatedAt'),
    updatedBy: textOrNull(row, 'updatedBy'),
    etag: etagOf(row),
  };
}

const stale = () => {
  throw new PreconditionFailedError();
};

export function createSettingsStore(table: TableClient): SettingsStore {
  return {
    async get() {
      const row = await storageCall('read settings', () => table.getEntity<Row>(PARTITION, SETTINGS_ROW).then((r): Row | null => r), { 404: () => null });
      return row ? toSettings(row) : null;
    },

    async save(settings, etag) {
      const entity = {
        partitionKey: PARTITION,
        rowKey: SETTINGS_ROW,
        notificationEmails: JSON.stringify(settings.notificationEmails),
        massRemovalGuard: JSON.stringify(settings.massRemovalGuard),
        updatedAt: settings.updatedAt ?? '',
        updatedBy: settings.updatedBy ?? '',
      };
      checkEntity(entity);
      const saved = await (etag === null
        ? storageCall('create settings', () => table.createEntity(entity), {
            409: () => {
              throw new ConflictError('SETTINGS_EXIST', 'The settings were just saved by someone else; re-read them.');
            },
          })
        : storageCall('update settings', () => table.updateEntity(entity, 'Replace', { etag }), { 404: stale, 412: stale }));
      return { ...settings, etag: saved.etag ?? '' };
    },
  };
}

export function createMailHealthStore(table: TableClient): MailHealthStore {
  const merge = (fields: Record<string, string>) =>
    storageCall('write mail health', () => table.upsertEntity({ partitionKey: PARTITION, rowKey: MAIL_HEALTH_ROW, ...fields }, 'Merge').then(() => undefined));
  return {
    async get() {
      const row = await storageCall('read mail health', () => table.getEntity<Row>(PARTITION, MAIL_HEALTH_ROW).then((r): Row | null => r), { 404: () => null });
      if (!row) return { lastSentAt: null, lastErrorAt: null, lastError: null };
      return { lastSentAt: textOrNull(row, 'lastSentAt'), lastErrorAt: textOrNull(row, 'lastErrorAt'), lastError: textOrNull(row, 'lastError') };
    },
    recordSent: (at) => merge({ lastSentAt: at }),
    // bounded: a provider's message is short, but never let it grow the row without limit
    recordFailure: (at, error) => merge({ lastErrorAt: at, lastError: error.slice(0, 1000) }),
  };
}

