import { emptyCounts } from '../domain';
import type { StatusCounts } from '../domain/model';
import type { Storage } from '../adapters/tables';
import { mapLimited } from '../util/concurrency';
import { loadGroupView } from './views';

/** Dashboard totals: the sum of every group's counts (O(groups), never O(members)). */
export async function countStatusesOverall(storage: Storage): Promise<{ counts: StatusCounts; groups: number }> {
  const counts = emptyCounts();
  let groups = 0;
  let continuationToken: string | undefined;
  do {
    const page = await storage.groups.list({ top: 200, continuationToken });
    const perGroup = await mapLimited(page.items, async (g) => (await loadGroupView(storage, g)).counts, 16);
    for (const c of perGroup) for (const key of Object.keys(counts) as (keyof StatusCounts)[]) counts[key] += c[key];
    groups += page.items.length;
    continuationToken = page.continuationToken ?? undefined;
  } while (continuationToken);
  return { counts, groups };
}
