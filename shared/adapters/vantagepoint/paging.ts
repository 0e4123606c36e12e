import { ServiceUnavailableError } from '../../errors';

/**
 * Reads a whole Vantagepoint list whatever the server does with paging. Deltek's "Pagination"
 * page names `page`/`pageSize` (1-based) and `limit`/`offset`, but documents neither a default
 * nor a maximum page size, nor whether every list honours them. So:
 * - the requested size is never assumed: a first page shorter than asked may be the server's
 *   cap, and later pages are asked with the size actually served (so either way of computing the
 *   offset lands on the same records);
 * - the list ends at an empty page, or a page shorter than the largest served;
 * - a page that brings nothing new means the server ignored `page`: the same position is asked
 *   once with `offset`/`limit`; if that brings nothing new either, what was read is the list
 *   (a server ignoring paging altogether returns everything at once);
 * - past `maxPages` the read fails loudly instead of looping or truncating silently.
 */
export interface PagedReadOptions<T> {
  /** e.g. `/user`; the paging query is appended */
  path: string;
  /** GETs one page (the path with its query) and parses it */
  fetchPage: (pathWithQuery: string) => Promise<T[]>;
  /** identity of a record, to notice a server that ignores the page parameter */
  key: (item: T) => string;
  pageSize: number;
  maxPages: number;
  /** names the list in error messages */
  what: string;
}

type Style = 'page' | 'offset';

function pageQuery(path: string, style: Style, pageIndex: number, size: number): string {
  const sep = path.includes('?') ? '&' : '?';
  return style === 'page' ? `${path}${sep}page=${pageIndex + 1}&pageSize=${size}` : `${path}${sep}offset=${pageIndex * size}&limit=${size}`;
}

export async function readAllPages<T>(options: PagedReadOptions<T>): Promise<T[]> {
  const seen = new Set<string>();
  const items: T[] = [];
  let style: Style = 'page';
  let size = options.pageSize;
  let largest = 0;
  for (let pageIndex = 0; pageIndex < options.maxPages; pageIndex++) {
    let page = await options.fetchPage(pageQuery(options.path, style, pageIndex, size));
    let fresh = page.filter((item) => !seen.has(options.key(item)));
    if (page.length > 0 && fresh.length === 0 && style === 'page') {
      // the server ignored `page`: try the other documented style once at this position
      style = 'offset';
      page = await options.fetchPage(pageQuery(options.path, style, pageIndex, size));
      fresh = page.filter((item) => !seen.has(options.key(item)));
    }
    if (page.length === 0 || fresh.length === 0) return items;
    for (const item of fresh) {
      seen.add(options.key(item));
      items.push(item);
    }
    if (pageIndex === 0 && page.length < size) {
      // maybe the server's cap, maybe the whole list: ask for the next page at the size served
      size = page.length;
    } else if (page.length < largest) {
      return items;
    }
    largest = Math.max(largest, page.length);
  }
  throw new ServiceUnavailableError(
    'vantagepoint',
    `Vantagepoint's ${options.what} did not end within ${options.maxPages} pages of ${size}; refusing to read further (is paging honoured?).`,
    300,
  );
}
