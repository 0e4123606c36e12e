import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { MEMBER_PREREQUISITES, type Member, type MemberPrerequisiteCode } from '../../domain/model';
import { ConflictError } from '../../errors';
import { mapLimited } from '../../util/concurrency';
import type { AddMemberOutcome, MemberStore, MemberSummary } from '../../ports';
import { compact, count, etagOf, text, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { chunk, checkEntity, checkKey } from './limits';
import { createMembershipClaims, type Claim } from './memberships';
import { rowRangeFilter, scanPage } from './scan';

/**
 * Members table, one partition per group:
 *   m|{employeeId}  the member
 *   x|{employeeId}  a copy of a member failing a prerequisite (listWithIssues is a range scan)
 *   ~summary        memberCount and not-configured counts, written in the same transaction as
 *                   the member rows; its ETag serialises concurrent writers of the group
 *   ~status         the reconciler's status counts (StatusSummaryStore)
 */
export const MEMBER_ROW = 'm|';
const ISSUE_ROW = 'x|';
const SUMMARY_ROW = '~summary';
export const STATUS_ROW = '~status';
/** At most two rows per member plus the summary: 2 × 49 + 1 = 99 ≤ 100 operations. */
const MEMBERS_PER_TRANSACTION = 49;
/** Lost summary races retried before giving up (each retry re-reads the rows). */
const MAX_ATTEMPTS = 8;
const CONCURRENCY = 16;
const NOT_CONFIGURED = 'nc_';

/** What to do with one member row, given what is stored: write it, delete it, or leave it. */
type Decision = Member | 'delete' | null;

export const memberKey = (employeeId: string, field = 'employeeId') => checkKey(field, employeeId, MEMBER_ROW);
const issueKey = (employeeId: string) => `${ISSUE_ROW}${employeeId}`;

function toEntity(member: Member, rowKey: string) {
  return compact({
    partitionKey: member.groupId,
    rowKey,
    employeeId: member.employeeId,
    name: member.name,
    email: member.email,
    prerequisite: member.prerequisite,
    prerequisiteMessage: member.prerequisiteMessage,
    checkedAt: member.checkedAt,
    addedAt: member.addedAt,
    addedBy: member.addedBy,
  });
}

function toMember(row: Row): Member {
  return {
    groupId: row.partitionKey ?? '',
    employeeId: text(row, 'employeeId'),
    name: text(row, 'name'),
    email: text(row, 'email'),
    prerequisite: textOrNull(row, 'prerequisite') as MemberPrerequisiteCode | null,
    prerequisiteMessage: text(row, 'prerequisiteMessage'),
    checkedAt: text(row, 'checkedAt'),
    addedAt: text(row, 'addedAt'),
    addedBy: text(row, 'addedBy'),
  };
}

function toSummary(row: Row | null): MemberSummary {
  const notConfigured: MemberSummary['notConfigured'] = {};
  for (const code of MEMBER_PREREQUISITES) {
    const n = row ? count(row, NOT_CONFIGURED + code) : 0;
    if (n > 0) notConfigured[code] = n;
  }
  return { memberCount: row ? count(row, 'memberCount') : 0, notConfigured };
}

function summaryEntity(groupId: string, summary: MemberSummary) {
  const counts = Object.fromEntries(MEMBER_PREREQUISITES.map((code) => [NOT_CONFIGURED + code, summary.notConfigured[code] ?? 0]));
  return { partitionKey: groupId, rowKey: SUMMARY_ROW, memberCount: summary.memberCount, ...counts };
}

/** Adds (+1) or takes away (-1) one member's contribution to the summary. */
function contribute(summary: MemberSummary, member: Member, sign: 1 | -1): void {
  summary.memberCount += sign;
  if (member.prerequisite) summary.notConfigured[member.prerequisite] = (summary.notConfigured[member.prerequisite] ?? 0) + sign;
}

/** The actions that move one member from `stored` to `next`, keeping the issue index in step. */
function memberActions(groupId: string, employeeId: string, stored: Member | null, next: Member | 'delete'): TransactionAction[] {
  const actions: TransactionAction[] = [];
  const staleIssue = stored?.prerequisite && (next === 'delete' || !next.prerequisite);
  if (next === 'delete') {
    actions.push(['delete', { partitionKey: groupId, rowKey: MEMBER_ROW + employeeId }]);
  } else {
    const row = toEntity(next, MEMBER_ROW + employeeId);
    checkEntity(row);
    actions.push(['upsert', row, 'Replace']);
    if (next.prerequisite) actions.push(['upsert', toEntity(next, issueKey(employeeId)), 'Replace']);
  }
  if (staleIssue) actions.push(['delete', { partitionKey: groupId, rowKey: issueKey(employeeId) }]);
  return actions;
}

/** Re-added or re-checked: fresh Vantagepoint facts, but when and by whom it was added stays. */
function refreshed(stored: Member, incoming: Member): Member {
  return { ...stored, name: incoming.name, email: incoming.email, prerequisite: incoming.prerequisite, prerequisiteMessage: incoming.prerequisiteMessage, checkedAt: incoming.checkedAt };
}

export function createMemberStore(members: TableClient, memberships: TableClient, groupLive: (groupId: string) => Promise<boolean>, now: () => number = Date.now): MemberStore {
  const readRow = (groupId: string, rowKey: string) =>
    storageCall('read member', () => members.getEntity<Row>(groupId, rowKey).then((r): Row | null => r), { 404: () => null });
  const readMember = async (groupId: string, employeeId: string) => {
    const row = await readRow(groupId, MEMBER_ROW + employeeId);
    return row ? toMember(row) : null;
  };
  const claims = createMembershipClaims(memberships, {
    groupLive,
    hasRow: async (groupId, employeeId) => (await readRow(groupId, MEMBER_ROW + employeeId)) !== null,
    now,
  });

  /**
   * One transaction over ≤ 49 members of a group plus its summary. The summary is updated
   * with its ETag (or created), so a concurrent writer makes the transaction fail with
   * 412/409; then everything is re-read and re-decided. Returns the rows as they were before.
   */
  async function mutate(groupId: string, employeeIds: string[], decide: (stored: Member | null, employeeId: string) => Decision): Promise<Map<string, Member | null>> {
    for (let attempt = 1; ; attempt++) {
      const [summaryRow, storedRows] = await Promise.all([
        readRow(groupId, SUMMARY_ROW),
        mapLimited(employeeIds, (id) => readMember(groupId, id), CONCURRENCY),
      ]);
      const before = new Map(employeeIds.map((id, i) => [id, storedRows[i] ?? null]));
      const summary = toSummary(summaryRow);
      const actions: TransactionAction[] = [];
      for (const [id, stored] of before) {
        const next = decide(stored, id);
        if (next === null || (next === 'delete' && !stored)) continue;
        actions.push(...memberActions(groupId, id, stored, next));
        if (stored) contribute(summary, stored, -1);
        if (next !== 'delete') contribute(summary, next, 1);
      }
      if (actions.length === 0) return before;
      const entity = summaryEntity(groupId, summary);
      actions.push(summaryRow ? ['update', entity, 'Replace', { etag: etagOf(summaryRow) }] : ['create', entity]);
      // 404: a row this chunk deletes was deleted by someone else since the read — as lost a race as 409/412
      const done = await storageCall('write members', () => members.submitTransaction(actions).then(() => true), {
        404: () => false,
        409: () => false,
        412: () => false,
      });
      if (done) return before;
      if (attempt >= MAX_ATTEMPTS) throw new ConflictError('GROUP_BUSY', `Group '${groupId}' is being changed by others; retry.`);
    }
  }

  async function addChunk(groupId: string, chunkMembers: Member[], move: boolean): Promise<AddMemberOutcome[]> {
    const claimed = await mapLimited(chunkMembers, (m) => claims.claim(m.employeeId, groupId, move), CONCURRENCY);
    const accepted = new Map<string, Member>();
    chunkMembers.forEach((m, i) => {
      if (claimed[i]?.kind !== 'conflict') accepted.set(m.employeeId, { ...m, groupId });
    });
    let before: Map<string, Member | null>;
    try {
      before = await mutate(groupId, [...accepted.keys()], (stored, id) => {
        const incoming = accepted.get(id) as Member;
        return stored ? refreshed(stored, incoming) : incoming;
      });
    } catch (err) {
      await mapLimited(claimed, (c) => claims.release(c), CONCURRENCY);
      throw err;
    }
    await leaveOldGroups(claimed);
    const lost = await dropRowsWhoseClaimMoved(groupId, accepted);
    return chunkMembers.map((m, i) => {
      const otherGroupId = lost.get(m.employeeId);
      return otherGroupId ? { employeeId: m.employeeId, outcome: 'conflict' as const, otherGroupId } : outcomeOf(m.employeeId, claimed[i] as Claim, before.get(m.employeeId) ?? null);
    });
  }

  /**
   * A concurrent move can take a claim between this add's claim and its row write (and its
   * leaveOldGroups ran before our row existed). The claim is the source of truth, so the row
   * written here is stray: it is deleted at once, if still the one this add wrote.
   */
  async function dropRowsWhoseClaimMoved(groupId: string, written: Map<string, Member>): Promise<Map<string, string>> {
    const ids = [...written.keys()];
    const holders = await mapLimited(ids, (id) => claims.claimedGroup(id), CONCURRENCY);
    const lost = new Map<string, string>();
    ids.forEach((id, i) => {
      const holder = holders[i];
      if (holder && holder !== groupId) lost.set(id, holder);
    });
    if (lost.size === 0) return lost;
    await mutate(groupId, [...lost.keys()], (stored, id) => (stored && stored.checkedAt === written.get(id)?.checkedAt ? 'delete' : null));
    return lost;
  }

  /**
   * Moved members leave their old group (member row, index row, summary) once the new group holds them.
   * Should this fail, the claim already names the new group: the old group's pass skips the row and
   * deletes it (claims are the source of truth), so the user is never in two groups.
   */
  async function leaveOldGroups(claimed: Claim[]): Promise<void> {
    const byGroup = new Map<string, string[]>();
    for (const c of claimed) if (c.kind === 'moved') byGroup.set(c.fromGroupId, [...(byGroup.get(c.fromGroupId) ?? []), c.employeeId]);
    for (const [fromGroupId, ids] of byGroup) await mutate(fromGroupId, ids, (stored) => (stored ? 'delete' : null));
  }

  return {
    async add(groupId, list, options) {
      checkKey('groupId', groupId);
      list.forEach((m, i) => memberKey(m.employeeId, `members.${i}.employeeId`));
      const unique = [...new Map(list.map((m) => [m.employeeId, m])).values()];
      const outcomes = new Map<string, AddMemberOutcome>();
      for (const part of chunk(unique, MEMBERS_PER_TRANSACTION)) {
        for (const outcome of await addChunk(groupId, part, options.move)) outcomes.set(outcome.employeeId, outcome);
      }
      return list.map((m) => outcomes.get(m.employeeId) as AddMemberOutcome);
    },

    async remove(groupId, employeeId) {
      checkKey('groupId', groupId);
      memberKey(employeeId);
      const before = await mutate(groupId, [employeeId], (stored) => (stored ? 'delete' : null));
      await claims.releaseIfIn(employeeId, groupId);
      return (before.get(employeeId) ?? null) !== null;
    },

    async get(groupId, employeeId) {
      checkKey('groupId', groupId);
      memberKey(employeeId);
      return readMember(groupId, employeeId);
    },

    groupOf(employeeId) {
      return claims.groupOf(employeeId);
    },

    list(groupId, page) {
      return listRange(members, checkKey('groupId', groupId), MEMBER_ROW, page);
    },

    listWithIssues(groupId, page) {
      return listRange(members, checkKey('groupId', groupId), ISSUE_ROW, page);
    },

    async summary(groupId) {
      return toSummary(await readRow(checkKey('groupId', groupId), SUMMARY_ROW));
    },

    async updatePrerequisites(groupId, list) {
      checkKey('groupId', groupId);
      list.forEach((m, i) => memberKey(m.employeeId, `members.${i}.employeeId`));
      const incoming = new Map(list.map((m) => [m.employeeId, m]));
      for (const ids of chunk([...incoming.keys()], MEMBERS_PER_TRANSACTION)) {
        // members removed meanwhile are not brought back
        await mutate(groupId, ids, (stored, id) => (stored ? refreshed(stored, incoming.get(id) as Member) : null));
      }
    },

    async removeAll(groupId, options = {}) {
      return removeWholePartition(members, checkKey('groupId', groupId), (ids) => mapLimited(ids, (id) => claims.releaseIfIn(id, groupId), CONCURRENCY), options.until);
    },

    async claimedGroups(employeeIds) {
      const groups = await mapLimited(employeeIds, (id) => claims.claimedGroup(id), CONCURRENCY);
      return new Map(employeeIds.map((id, i) => [id, groups[i] ?? null]));
    },

    async removeRows(groupId, listed) {
      checkKey('groupId', groupId);
      const seen = new Map(listed.map((m) => [m.employeeId, m]));
      // Only the rows as they were listed: one an add rewrote since (with its claim) stays.
      const unchanged = (stored: Member, id: string) => stored.checkedAt === seen.get(id)?.checkedAt && stored.addedAt === seen.get(id)?.addedAt;
      for (const ids of chunk([...seen.keys()], MEMBERS_PER_TRANSACTION)) {
        await mutate(groupId, ids, (stored, id) => (stored && unchanged(stored, id) ? 'delete' : null));
      }
    },
  };
}

function outcomeOf(employeeId: string, claim: Claim, stored: Member | null): AddMemberOutcome {
  switch (claim.kind) {
    case 'conflict':
      return { employeeId, outcome: 'conflict', otherGroupId: claim.otherGroupId };
    case 'moved':
      return { employeeId, outcome: 'moved', fromGroupId: claim.fromGroupId };
    default:
      // a claim pointing here without a member row (an interrupted add) is repaired as an add
      return { employeeId, outcome: stored ? 'already_member' : 'added' };
  }
}

function listRange(table: TableClient, groupId: string, prefix: string, page: { top: number; continuationToken?: string | undefined }) {
  return scanPage<Member>({
    table,
    action: 'list members',
    page,
    filter: (after) => rowRangeFilter(groupId, prefix, after),
    toItem: toMember,
    cursorOf: (row) => row.rowKey ?? '',
  });
}

/**
 * Deletes every row of a group's partition, 100 rows per transaction, releasing the
 * membership claims of the members first: a crash between the two leaves rows whose
 * claims are gone, which the next round (a redelivered release job) deletes. Stops at
 * `until` (ms since epoch) with `done: false`; resumable, since every round re-reads.
 */
async function removeWholePartition(
  table: TableClient,
  groupId: string,
  release: (employeeIds: string[]) => Promise<unknown>,
  until = Number.POSITIVE_INFINITY,
): Promise<{ removed: number; done: boolean }> {
  let removed = 0;
  for (;;) {
    const rows = await firstRows(table, groupId, 100);
    if (rows.length === 0) return { removed, done: true };
    const employeeIds = rows.filter((r) => r.rowKey?.startsWith(MEMBER_ROW)).map((r) => text(r, 'employeeId'));
    await release(employeeIds);
    const actions: TransactionAction[] = rows.map((r) => ['delete', { partitionKey: groupId, rowKey: r.rowKey ?? '' }]);
    // 404: a row vanished under us (a concurrent remove); the next round re-reads
    const deleted = await storageCall('delete members', () => table.submitTransaction(actions).then(() => true), { 404: () => false });
    if (deleted) removed += employeeIds.length;
    if (Date.now() > until) return { removed, done: false };
  }
}

async function firstRows(table: TableClient, partitionKey: string, n: number): Promise<Row[]> {
  const pages = table
    .listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey', 'employeeId'] } })
    .byPage({ maxPageSize: n });
  const next = () => storageCall('list members', () => pages.next());
  // the service may answer an empty page with a continuation token
  for (let page = await next(); !page.done; page = await next()) {
    if (page.value.length > 0) return page.value.slice(0, n);
  }
  return [];
}
