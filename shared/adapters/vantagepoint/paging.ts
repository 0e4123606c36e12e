import { ServiceUnavailableError } from '../../errors';

/**
 * Reads a whole Vantagepoint list whatever the server does with paging. Deltek's "Pagination"
 * page names `page`/`pageSize` (1-based) and `limit`/`offset`, but documents neither a default
 * nor a maximum page size, nor whether every list honours them. So:
 * - the requested size is never assumed: a first page shorter than asked may be the server's
 *   cap, and later pages are asked with the size actually served (so either way of computing the
 *   offset lands on the same records);
 * - the list ends at an empty page (or a 404 for a page after the first), or a page shorter than
 *   the largest served;
 * - a page that brings nothing new means the server ignored `page`: the same position is asked
 *   once with `offset`/`limit`. If that brings nothing new either, the server ignores positions:
 *   a page shorter than the size first asked, or longer than asked, is the whole list (a server
 *   ignoring paging altogether returns everything at once); one of exactly the size asked may
 *   hide more, so the first page is asked again with twice the size, and so on, until a page
 *   comes back shorter than asked;
 * - past `maxPages` pages (or as many records) the read fails loudly instead of looping or
 *   truncating silently.
 */
export interface PagedReadOptions<T> {
  /** e.g. `/user`; the paging query is appended */
  path: string;
  /** GETs one page (the path with its query) and parses it; null when the server answered 404 */
  fetchPage: (pathWithQuery: string) => Promise<T[] | null>;
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

/** The records read so far, each once. */
class Collected<T> {
  private readonly seen = new Set<string>();
  readonly items: T[] = [];

  constructor(private readonly key: (item: T) => string) {}

  fresh(page: T[]): T[] {
    return page.filter((item) => !this.seen.has(this.key(item)));
  }

  add(items: T[]): void {
    for (const item of items) {
      if (this.seen.has(this.key(item))) continue;
      this.seen.add(this.key(item));
      this.items.push(item);
    }
  }
}

export async function readAllPages<T>(options: PagedReadOptions<T>): Promise<T[]> {
  const read = new Collected<T>(options.key);
  let style: Style = 'page';
  let size = options.pageSize;
  let largest = 0;
  for (let pageIndex = 0; pageIndex < options.maxPages; pageIndex++) {
    let page = await fetchPage(options, style, pageIndex, size);
    let fresh = read.fresh(page);
    if (page.length > 0 && fresh.length === 0 && style === 'page') {
      // the server ignored `page`: try the other documented style once at this position
      style = 'offset';
      page = await fetchPage(options, style, pageIndex, size);
      fresh = read.fresh(page);
    }
    if (page.length === 0) return read.items;
    if (fresh.length === 0) {
      // neither position moved the server. A page shorter than first asked, or longer than asked
      // (the size ignored too), is all there is; one of exactly the size asked may hide more.
      const whole = page.length < options.pageSize || page.length > size;
      return whole ? read.items : readPositionBlind(options, read, page.length);
    }
    read.add(fresh);
    if (pageIndex === 0 && page.length < size) {
      // maybe the server's cap, maybe the whole list: ask for the next page at the size served
      size = page.length;
    } else if (page.length < largest) {
      return read.items;
    }
    largest = Math.max(largest, page.length);
  }
  throw tooLong(options, `did not end within ${options.maxPages} pages of ${size}`);
}

/** One page; a 404 ends the list after the first page (some servers answer so past the end), and is an error on the first. */
async function fetchPage<T>(options: PagedReadOptions<T>, style: Style, pageIndex: number, size: number): Promise<T[]> {
  const page = await options.fetchPage(pageQuery(options.path, style, pageIndex, size));
  if (page !== null) return page;
  if (pageIndex === 0) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint answered 404 to the first page of its ${options.what}.`);
  return [];
}

/**
 * A server that honours the size asked but neither `page` nor `offset`: the list is read from its
 * start with ever larger pages until one comes back shorter than asked, within the same bound.
 */
async function readPositionBlind<T>(options: PagedReadOptions<T>, read: Collected<T>, served: number): Promise<T[]> {
  const bound = options.maxPages * options.pageSize;
  for (let size = served * 2; size <= bound; size *= 2) {
    const page = await fetchPage(options, 'page', 0, size);
    read.add(page);
    if (page.length < size) return read.items;
  }
  throw tooLong(options, `ignores \`page\` and \`offset\`, and its list is longer than ${bound} records`);
}

function tooLong(options: Pick<PagedReadOptions<unknown>, 'what'>, why: string): ServiceUnavailableError {
  return new ServiceUnavailableError('vantagepoint', `Vantagepoint's ${options.what} ${why}; refusing to read further (is paging honoured?).`, 300);
}
