import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { MailClaim, MailKey, MailLog } from '../../ports';
import { etagOf, text, type Row } from './entity';
import { storageCall } from './failures';

/**
 * Table MailLog: PartitionKey = cause, RowKey = sha256(recipient, episode) — addresses
 * may hold characters a key may not (`/`, `#`, `?`), so the key is a digest and the
 * values are kept beside it. A row is a claim (`sending`) or a record (`sent`).
 */
function keyOf(key: MailKey) {
  const rowKey = createHash('sha256').update(`${key.recipient.toLowerCase()}\n${key.episode}`).digest('hex');
  return { partitionKey: key.cause, rowKey };
}

export function createMailLog(table: TableClient): MailLog {
  const read = (key: MailKey) => {
    const { partitionKey, rowKey } = keyOf(key);
    return storageCall('read mail log', () => table.getEntity<Row>(partitionKey, rowKey).then((r): Row | null => r), { 404: () => null });
  };

  return {
    async claim(key, now, staleAfterMs): Promise<MailClaim> {
      const entity = { ...keyOf(key), recipient: key.recipient, episode: key.episode, state: 'sending', claimedAt: now.toISOString() };
      for (let attempt = 1; attempt <= 3; attempt++) {
        const created = await storageCall('claim mail', () => table.createEntity(entity).then(() => true), { 409: () => false });
        if (created) return 'claimed';
        const row = await read(key);
        if (!row) continue; // released between our create and read: try again
        if (text(row, 'state') === 'sent') return 'sent';
        if (now.getTime() - Date.parse(text(row, 'claimedAt')) < staleAfterMs) return 'busy';
        // The delivery holding it died mid-send: take it over (at least once), unless someone else just did.
        const taken = await storageCall('take over mail claim', () => table.updateEntity(entity, 'Replace', { etag: etagOf(row) }).then(() => true), {
          412: () => false,
          404: () => false,
        });
        if (taken) return 'claimed';
      }
      return 'busy';
    },

    async markSent(key, now) {
      await storageCall('record mail sent', () =>
        table.upsertEntity({ ...keyOf(key), recipient: key.recipient, episode: key.episode, state: 'sent', sentAt: now.toISOString() }, 'Replace').then(() => undefined),
      );
    },

    async release(key) {
      const row = await read(key);
      if (!row || text(row, 'state') === 'sent') return;
      const { partitionKey, rowKey } = keyOf(key);
      await storageCall('release mail claim', () => table.deleteEntity(partitionKey, rowKey, { etag: etagOf(row) }).then(() => undefined), {
        404: () => undefined,
        412: () => undefined,
      });
    },
  };
}
