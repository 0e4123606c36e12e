import type { Page } from '../ports';

/** Maps a page's items with bounded concurrency, keeping order and the continuation token. */
export async function mapPage<T, U>(page: Page<T>, map: (item: T) => Promise<U>, concurrency = 16): Promise<{ items: U[]; continuationToken: string | null }> {
  return { items: await mapLimited(page.items, map, concurrency), continuationToken: page.continuationToken };
}

export async function mapLimited<T, U>(items: readonly T[], map: (item: T) => Promise<U>, concurrency: number): Promise<U[]> {
  const out = new Array<U>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
