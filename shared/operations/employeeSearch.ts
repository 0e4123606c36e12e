import type { z } from 'zod';
import type * as S from '../api/schemas';
import { entryFacts, evaluateMember, indexEntries, searchEntries, type DirectoryEntry, type IndexedEntry } from '../domain';
import type { Services } from '../services';
import { mapLimited } from '../util/concurrency';

type Deps = Pick<Services, 'storage' | 'employees'>;

/** Membership reads in flight at once for one page of results (at most `top`, 50). */
const MEMBERSHIP_READS = 10;

/**
 * The folded index of the list the adapter holds: built once per copy of the list (the adapter
 * hands out the same array until its copy expires), so a keystroke folds nothing.
 */
const indexes = new WeakMap<DirectoryEntry[], IndexedEntry[]>();
function indexOf(entries: DirectoryEntry[]): IndexedEntry[] {
  let index = indexes.get(entries);
  if (!index) {
    index = indexEntries(entries);
    indexes.set(entries, index);
  }
  return index;
}

/**
 * Employees matching what an administrator typed (id, first or last name, email), for adding
 * them to a group: each with the group they are in now (a move then says from which) and the
 * member prerequisite they would fail, as far as the directory's list tells it. Reads only.
 */
export async function searchEmployees(deps: Deps, query: z.output<typeof S.EmployeeSearchQuery>): Promise<z.output<typeof S.EmployeeSearchResult>> {
  const { entries, readAt } = await deps.employees.employees();
  const { items, total } = searchEntries(indexOf(entries), query.search, query.top);
  const groupIds = await mapLimited(items, (e) => deps.storage.members.groupOf(e.employeeId), MEMBERSHIP_READS);
  const distinct = [...new Set(groupIds.filter((g): g is string => g !== null))];
  const groups = new Map((await Promise.all(distinct.map((id) => deps.storage.groups.get(id)))).flatMap((g) => (g ? [[g.id, g] as const] : [])));
  return {
    items: items.map((entry, i) => {
      const evaluation = evaluateMember(entryFacts(entry));
      // A claim naming a group that is gone (being deleted) counts as free, as the add treats it.
      const group = groups.get(groupIds[i] ?? '') ?? null;
      return {
        employeeId: entry.employeeId,
        name: `${entry.firstName} ${entry.lastName}`.trim(),
        email: entry.email,
        employeeStatus: entry.employeeStatus,
        groupId: group?.id ?? null,
        groupName: group?.name ?? null,
        prerequisite: evaluation.prerequisite,
        message: evaluation.message,
      };
    }),
    total,
    listedAt: readAt,
  };
}
