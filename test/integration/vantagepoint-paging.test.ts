/**
 * "Pagination" (Deltek's API reference; test/fixtures/vantagepoint/pagination.json): `page`/`pageSize`
 * (1-based) or `offset`/`limit`, with no documented default or maximum page size, nor whether a list
 * honours paging at all. The client must read a whole list from any such server: the paging rules
 * alone, then the user list through the client, members on later pages included.
 */
import fc from 'fast-check';
import employeeFixture from '../fixtures/vantagepoint/employee.json';
import passwordGrant from '../fixtures/vantagepoint/token-password-grant.json';
import usersFixture from '../fixtures/vantagepoint/users.json';
import { readAllPages } from '../../shared/adapters/vantagepoint/paging';
import { ServiceUnavailableError } from '../../shared/errors';
import { stub, stubDirectory, type StubAnswer } from '../support/vantagepointStub';

type Server = (query: URLSearchParams) => Array<{ id: string }> | null;

/** A server's answer to one page: the records from `start`, at most `cap`, honouring what `honours` names. */
function windowOf<T>(all: T[], q: URLSearchParams, cap: number, honours: { page: boolean; offset: boolean; size: boolean }): T[] {
  const asked = Number(q.get('pageSize') ?? q.get('limit') ?? cap);
  const size = Math.min(honours.size ? asked : cap, cap);
  let start = 0;
  if (q.has('page') && honours.page) start = (Number(q.get('page')) - 1) * size;
  if (q.has('offset') && honours.offset) start = Number(q.get('offset'));
  return all.slice(start, start + size);
}
const EVERYTHING = { page: true, offset: true, size: true };

describe('the paging rules (readAllPages)', () => {
  const all = Array.from({ length: 245 }, (_, i) => ({ id: `u${i}` }));
  const read = (server: Server, maxPages = 100) => {
    const calls: string[] = [];
    const result = readAllPages({
      path: '/user',
      fetchPage: async (p) => {
        calls.push(p);
        return server(new URL(p, 'http://x').searchParams);
      },
      key: (u) => u.id,
      pageSize: 100,
      maxPages,
      what: 'user list',
    });
    return { result, calls };
  };
  const ids = async (result: Promise<Array<{ id: string }>>) => (await result).map((u) => u.id);

  it('follows a server that honours the size asked', async () => {
    expect(await ids(read((q) => windowOf(all, q, 1000, EVERYTHING)).result)).toEqual(all.map((u) => u.id));
  });

  it.each([10, 50, 99])('follows a server capping pages at %i below the size asked', async (cap) => {
    const { result, calls } = read((q) => windowOf(all, q, cap, EVERYTHING), 1000);
    expect(await ids(result)).toEqual(all.map((u) => u.id));
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(245 / cap) + 1);
  });

  it('follows a server that ignores `page` but honours `offset`/`limit`', async () => {
    const { result } = read((q) => windowOf(all, q, 100, { page: false, offset: true, size: true }));
    expect(await ids(result)).toEqual(all.map((u) => u.id));
  });

  it('stops on a paging-blind server that answers everything every time', async () => {
    const { result, calls } = read(() => all);
    expect(await ids(result)).toEqual(all.map((u) => u.id));
    expect(calls.length).toBeLessThanOrEqual(3);
  });

  it('reads a server that honours the size but neither `page` nor `offset` by asking for larger first pages', async () => {
    const { result, calls } = read((q) => windowOf(all, q, 100_000, { page: false, offset: false, size: true }));
    expect(await ids(result)).toEqual(all.map((u) => u.id));
    expect(calls.at(-1)).toBe('/user?page=1&pageSize=400');
  });

  it('takes a 404 for a page after the first as the end of the list', async () => {
    const { result } = read((q) => {
      const page = windowOf(all, q, 100, EVERYTHING);
      return page.length === 0 ? null : page;
    });
    expect(await ids(result)).toEqual(all.map((u) => u.id));
  });

  it('takes a 404 for the first page as an outage, not as an empty list', async () => {
    await expect(read(() => null).result).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('reads the whole list from any server that honours a position, whatever its cap; and from a position-blind one that serves all it is asked (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 700 }),
        fc.integer({ min: 1, max: 250 }),
        fc.record({ page: fc.boolean(), offset: fc.boolean(), size: fc.boolean() }),
        async (length, cap, honours) => {
          const list = Array.from({ length }, (_, i) => ({ id: `p${i}` }));
          const positioned = honours.page || honours.offset;
          // a position-blind server can only be read whole when it serves everything asked (no cap below the list)
          fc.pre(positioned || cap >= length);
          const { result } = read((q) => windowOf(list, q, cap, honours), 1000);
          expect(await ids(result)).toEqual(list.map((u) => u.id));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fails loudly past the page bound instead of looping', async () => {
    let n = 0;
    const endless = () => Array.from({ length: 100 }, () => ({ id: `x${n++}` }));
    await expect(read(endless, 5).result).rejects.toThrow(/did not end within 5 pages/);
  });

  it('fails loudly when a position-blind list outgrows the same bound', async () => {
    const big = Array.from({ length: 1000 }, (_, i) => ({ id: `b${i}` }));
    await expect(read((q) => windowOf(big, q, 100_000, { page: false, offset: false, size: true }), 5).result).rejects.toThrow(/longer than 500 records/);
  });
});

describe('the user list through the client: members whose user record sits on a later page', () => {
  // 75 users in the shape of Deltek's documented sample (users.json), employees 00001–00075
  const template = usersFixture.response.body[0] as Record<string, unknown>;
  const users = Array.from({ length: 75 }, (_, i) => {
    const key = String(i + 1).padStart(5, '0');
    return { ...template, Username: `USER${key}`, DisplayUsername: `user${key}`, Employee: key, EmployeeName: `Employee ${key}` };
  });
  const employee = (key: string) => ({ ...employeeFixture.filtered.body[0], Employee: key, EMail: `e${key}@example.com` });

  function server(list: (q: URLSearchParams) => unknown[] | null) {
    return stub((path, query): StubAnswer | undefined => {
      if (path === '/token') return { status: 200, body: passwordGrant.response.body };
      if (path === '/user') {
        const page = list(query);
        return page === null ? { status: 404, body: { Message: 'Not found.' } } : { status: 200, body: page };
      }
      const key = /^\/employee\/(\d{5})$/.exec(path)?.[1];
      return key && Number(key) <= 75 ? { status: 200, body: [employee(key)] } : undefined;
    });
  }

  it.each([
    ['capping pages at 30 (below the 100 asked)', (q: URLSearchParams) => windowOf(users, q, 30, EVERYTHING)],
    ['capping at 20 and ignoring `page` (offset/limit honoured)', (q: URLSearchParams) => windowOf(users, q, 20, { page: false, offset: true, size: true })],
    ['ignoring paging altogether', () => users],
    ['honouring the size only', (q: URLSearchParams) => windowOf(users, q, 100_000, { page: false, offset: false, size: true })],
    ['answering 404 past the end', (q: URLSearchParams) => {
      const page = windowOf(users, q, 25, EVERYTHING);
      return page.length === 0 ? null : page;
    }],
  ])('a server %s', async (_name, list) => {
    const s = server(list);
    const facts = await stubDirectory(s.fetchImpl, {}, { userPageSize: 100 }).employeeFacts(['00001', '00031', '00075']);
    for (const key of ['00001', '00031', '00075']) {
      expect(facts.get(key)).toMatchObject({ exists: true, employeeStatus: 'A', user: { username: `USER${key}`, active: true } });
    }
  });
});
