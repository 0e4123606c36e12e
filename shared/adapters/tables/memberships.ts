import type { TableClient } from '@azure/data-tables';
import { ConflictError } from '../../errors';
import { etagOf, text, type Row } from './entity';
import { storageCall } from './failures';
import { checkKey } from './limits';

/**
 * "One group per user": table Memberships, PartitionKey = employeeId, one row holding
 * the user's groupId. Claimed with createEntity, so two groups adding the same user at
 * once cannot both win. The claim is the source of truth of membership; a member row
 * is only the group's copy of it.
 *
 * A claim is stale, and counts as free, when its group no longer exists (or is being
 * deleted), or when its group holds no member row for the user and the claim is older
 * than CLAIM_GRACE_MS (an add writes its claim, then its row, within one request; an add
 * that died in between must not strand the user).
 */
const ROW = 'membership';
const MAX_ATTEMPTS = 4;
export const CLAIM_GRACE_MS = 60_000;

/** What the member store knows that the claims table does not: whether a claim is still backed. */
export interface ClaimBacking {
  groupLive(groupId: string): Promise<boolean>;
  hasRow(groupId: string, employeeId: string): Promise<boolean>;
  now(): number;
}

export type Claim =
  | { kind: 'new'; employeeId: string; etag: string }
  | { kind: 'same'; employeeId: string }
  | { kind: 'moved'; employeeId: string; fromGroupId: string; etag: string }
  | { kind: 'conflict'; employeeId: string; otherGroupId: string };

export interface MembershipClaims {
  claim(employeeId: string, groupId: string, move: boolean): Promise<Claim>;
  /** Undoes a claim made by `claim` (its transaction failed). */
  release(claim: Claim): Promise<void>;
  /** Deletes the user's claim when it still names this group. */
  releaseIfIn(employeeId: string, groupId: string): Promise<void>;
  /** The group a live claim names (stale claims count as free). */
  groupOf(employeeId: string): Promise<string | null>;
  /** The group the claim names, stale or not (the group pass compares it with its own). */
  claimedGroup(employeeId: string): Promise<string | null>;
}

export function createMembershipClaims(table: TableClient, backing: ClaimBacking): MembershipClaims {
  const read = (employeeId: string) =>
    storageCall('read membership', () => table.getEntity<Row>(employeeId, ROW).then((r): Row | null => r), { 404: () => null });
  const entity = (employeeId: string, groupId: string) => ({ partitionKey: employeeId, rowKey: ROW, groupId, claimedAt: new Date(backing.now()).toISOString() });

  /** A claim nobody stands behind any more: its group is gone, or it never got (or lost) its row. */
  async function isStale(row: Row, employeeId: string): Promise<boolean> {
    const groupId = text(row, 'groupId');
    if (!groupId || !(await backing.groupLive(groupId))) return true;
    if (await backing.hasRow(groupId, employeeId)) return false;
    const claimedAt = Date.parse(text(row, 'claimedAt'));
    // claims written before claimedAt existed are old
    return !(claimedAt > backing.now() - CLAIM_GRACE_MS);
  }

  const create = (employeeId: string, groupId: string) =>
    storageCall('claim membership', () => table.createEntity(entity(employeeId, groupId)).then((r): string | null => r.etag ?? ''), {
      409: () => null,
    });
  /** Replaces the claim's group if its ETag still matches; null when someone else changed it first. */
  const reassign = (employeeId: string, groupId: string, etag: string) =>
    storageCall('move membership', () => table.updateEntity(entity(employeeId, groupId), 'Replace', { etag }).then((r): string | null => r.etag ?? ''), {
      404: () => null,
      412: () => null,
    });
  const remove = (employeeId: string, etag: string) =>
    storageCall('release membership', () => table.deleteEntity(employeeId, ROW, { etag }).then(() => undefined), {
      404: () => undefined,
      412: () => undefined,
    });

  async function attempt(employeeId: string, groupId: string, move: boolean): Promise<Claim | null> {
    const etag = await create(employeeId, groupId);
    if (etag !== null) return { kind: 'new', employeeId, etag };
    const existing = await read(employeeId);
    if (!existing) return null; // released in between: try again
    const otherGroupId = text(existing, 'groupId');
    if (otherGroupId === groupId) return { kind: 'same', employeeId };
    if (await isStale(existing, employeeId)) {
      // Taken over as a new claim (with the stale one's ETag, so a concurrent writer wins); nothing to leave behind
      // but a row in a group that is gone, or a row-less claim: the group pass and the release job sweep those.
      const taken = await reassign(employeeId, groupId, etagOf(existing));
      return taken === null ? null : { kind: 'new', employeeId, etag: taken };
    }
    if (!move) return { kind: 'conflict', employeeId, otherGroupId };
    const moved = await reassign(employeeId, groupId, etagOf(existing));
    return moved === null ? null : { kind: 'moved', employeeId, fromGroupId: otherGroupId, etag: moved };
  }

  return {
    async claim(employeeId, groupId, move) {
      checkKey('employeeId', employeeId);
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const claim = await attempt(employeeId, groupId, move);
        if (claim) return claim;
      }
      throw new ConflictError('MEMBERSHIP_BUSY', `Employee '${employeeId}' is being added to groups concurrently; retry.`);
    },

    async release(claim) {
      if (claim.kind === 'new') await remove(claim.employeeId, claim.etag);
      if (claim.kind === 'moved') await reassign(claim.employeeId, claim.fromGroupId, claim.etag);
    },

    async releaseIfIn(employeeId, groupId) {
      const existing = await read(employeeId);
      if (existing && text(existing, 'groupId') === groupId) await remove(employeeId, etagOf(existing));
    },

    async groupOf(employeeId) {
      const row = await read(checkKey('employeeId', employeeId));
      if (!row || (await isStale(row, employeeId))) return null;
      return text(row, 'groupId') || null;
    },

    async claimedGroup(employeeId) {
      const row = await read(checkKey('employeeId', employeeId));
      return row ? text(row, 'groupId') || null : null;
    },
  };
}
