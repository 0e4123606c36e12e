import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { ConflictError, PreconditionFailedError } from '../../errors';
import type { SessionRevocations, SignInFailureStore } from '../../ports';
import { count, etagOf, text, type Row } from './entity';
import { storageCall } from './failures';

const REVOKED = 'revoked';
const FAILURES = 'signin-failures';

/** Keys may hold any character (DOMAIN\\user, IPv6): rows are keyed by a digest. */
const rowKeyOf = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * Signed-out session ids (partition `revoked`) in the AdminSessions table, kept until the session
 * would have expired; every instance reads them, so a sign-out holds across a scaled-out app.
 */
export function createSessionRevocations(table: TableClient): SessionRevocations {
  return {
    async revoke(sessionId, expiresAt) {
      const entity = { partitionKey: REVOKED, rowKey: rowKeyOf(sessionId), expiresAt };
      await storageCall('revoke session', () => table.upsertEntity(entity, 'Replace'));
    },
    async isRevoked(sessionId) {
      const row = await storageCall(
        'read session revocation',
        () => table.getEntity<Row>(REVOKED, rowKeyOf(sessionId)).then((r): Row | null => r),
        { 404: () => null },
      );
      return row !== null;
    },
  };
}

/** Failed sign-ins per throttling key (partition `signin-failures`), ETag-guarded. */
export function createSignInFailureStore(table: TableClient): SignInFailureStore {
  return {
    async get(key) {
      const row = await storageCall(
        'read sign-in failures',
        () => table.getEntity<Row>(FAILURES, rowKeyOf(key)).then((r): Row | null => r),
        { 404: () => null },
      );
      return row ? { failures: count(row, 'failures'), windowStart: text(row, 'windowStart'), etag: etagOf(row) } : null;
    },
    async save(key, value, etag) {
      const entity = { partitionKey: FAILURES, rowKey: rowKeyOf(key), failures: value.failures, windowStart: value.windowStart };
      if (etag === null) {
        await storageCall('record sign-in failure', () => table.createEntity(entity), {
          409: () => {
            throw new ConflictError('SIGN_IN_FAILURE_EXISTS', 'recorded concurrently');
          },
        });
        return;
      }
      await storageCall('record sign-in failure', () => table.updateEntity(entity, 'Replace', { etag }), {
        412: () => {
          throw new PreconditionFailedError();
        },
        404: () => {
          throw new PreconditionFailedError();
        },
      });
    },
    async delete(key) {
      await storageCall('clear sign-in failures', () => table.deleteEntity(FAILURES, rowKeyOf(key)), { 404: () => undefined });
    },
  };
}
