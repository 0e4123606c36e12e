/**
 * The Activities hub of the Vantagepoint emulator, in Deltek's documented shapes (Deltek's public
 * Postman collection, "Hubs > Activities": Create an Activity, Update an Activity, Activity; API
 * reference "Pagination" and "Responses"):
 * - POST /api/activity → 201 and the record in an array; Type and Subject required; Type from the
 *   code table CFGActivityType; `startWorkflow` and `requiredFieldValidation` query flags;
 * - PUT /api/activity/{ActivityID} → 200 [record], a partial update; GET → 200 [record]; a missing
 *   key → 404;
 * - GET /api/activity?page=&pageSize= (1-based page, at most 100 per page), `order=Col_D|Col_A`,
 *   `fieldFilter=A,B`;
 * - GET /api/codeTable/CFGActivityType[/{Code}] (the code table; third-party client scjalliance/vantagepoint).
 * Assumed where Deltek documents nothing (docs/DATA-SYNC.md):
 * - DELETE /api/activity/{id} → 204 (the Go client above calls it); `deleteMode: 'refuse'` answers 405;
 * - a caller-supplied ActivityID on POST is ignored (Vantagepoint makes the id); the client never sends one;
 * - Owner is the activity's employee (the Go client's field).
 */
import { randomBytes } from 'node:crypto';

export interface ActivityBehaviour {
  deleteMode: 'allow' | 'refuse';
  /** every write answers this (a fault to inject), until cleared */
  refuseWrites: { status: number; detail: string } | null;
}

export interface ActivityRequest {
  method: string;
  path: string;
  startWorkflow: string | null;
  applicationId: string | null;
}

export type ActivityRecord = Record<string, string | number>;

/** A status other than 200 (the server answers 200 for plain values). */
export class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

export class RestProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    message = 'The request is invalid.',
  ) {
    super(message);
  }
}

/** The activity types of the seeded database (CFGActivityType). */
export const ACTIVITY_TYPES = [
  { Code: 'Meeting', Description: 'Meeting' },
  { Code: 'EMail', Description: 'EMail' },
  { Code: 'Phone Call', Description: 'Phone Call' },
  { Code: 'Task', Description: 'Task' },
  { Code: 'Milestone', Description: 'Milestone' },
  { Code: 'Mailing', Description: 'Mailing' },
];

const MAX_PAGE_SIZE = 100;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$/;
const YN = new Set(['Y', 'N']);
/** Fields a client may write (from the documented record); anything else is refused as Vantagepoint refuses unknown columns. */
const WRITABLE = new Set([
  'ActivityID',
  'Type',
  'Subject',
  'StartDate',
  'EndDate',
  'AllDayEventInd',
  'Notes',
  'CompletionInd',
  'PrivateInd',
  'Owner',
  'Location',
  'Priority',
  'ShowTimeAs',
  'WBS1',
  'CampaignID',
  'ClientID',
  'ContactID',
  'Attendees',
]);

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}
function vantagepointNow(at: number): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

export class ActivitiesHub {
  private readonly records = new Map<string, ActivityRecord>();
  readonly requests: ActivityRequest[] = [];
  behaviour: ActivityBehaviour = { deleteMode: 'allow', refuseWrites: null };

  constructor(private readonly now: () => number) {}

  all(): ActivityRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  /** The routes under /api/activity and /api/codeTable; undefined when the path is not theirs. */
  handle(method: string, url: URL, body: unknown, username: string, headers: Record<string, string | string[] | undefined>, missing: 404 | 'empty' = 404): unknown {
    const path = url.pathname;
    const codeTable = /^\/api\/codeTable\/([^/]+)(?:\/([^/]+))?$/i.exec(path);
    if (codeTable) {
      if (method !== 'GET') throw new RestProblem(405, 'Only GET is emulated for code tables.', 'Method not allowed.');
      if (decodeURIComponent(codeTable[1] ?? '').toLowerCase() !== 'cfgactivitytype') throw new RestProblem(404, `No code table ${codeTable[1]}.`, 'Not found.');
      if (!codeTable[2]) return ACTIVITY_TYPES;
      const code = decodeURIComponent(codeTable[2]);
      const hit = ACTIVITY_TYPES.filter((t) => t.Code.toLowerCase() === code.toLowerCase());
      if (hit.length === 0) throw new RestProblem(404, `Code "${code}" does not exist in CFGActivityType.`, 'Not found.');
      return hit;
    }
    const match = /^\/api\/activity(?:\/([^/]+))?$/i.exec(path);
    if (!match) return undefined;
    const id = match[1] ? decodeURIComponent(match[1]) : undefined;
    if (method !== 'GET') {
      const header = headers['dvp-applicationid'];
      this.requests.push({
        method,
        path: id ? '/api/activity/{ActivityID}' : '/api/activity',
        startWorkflow: url.searchParams.get('startWorkflow'),
        applicationId: Array.isArray(header) ? (header[0] ?? null) : (header ?? null),
      });
    }
    const refused = this.behaviour.refuseWrites;
    if (refused && method !== 'GET') throw new RestProblem(refused.status, refused.detail);
    if (!id && method === 'GET') return this.list(url.searchParams);
    if (!id && method === 'POST') return new Answer(201, [this.create(body, username)]);
    // a missing key: 404 ("Responses") or 200 [] (seen in practice), as the server is configured
    if (id && method === 'GET') return missing === 'empty' && !this.find(id) ? [] : [this.require(id)];
    if (id && method === 'PUT') return [this.update(id, body, username)];
    if (id && method === 'DELETE') {
      if (this.behaviour.deleteMode === 'refuse') throw new RestProblem(405, 'Activities cannot be deleted through the API.', 'Method not allowed.');
      this.require(id);
      this.records.delete(id);
      return new Answer(204, undefined);
    }
    throw new RestProblem(405, `${method} is not supported on ${path}.`, 'Method not allowed.');
  }

  private find(id: string): ActivityRecord | undefined {
    return this.records.get(id.toUpperCase()) ?? this.records.get(id);
  }

  private require(id: string): ActivityRecord {
    const record = this.find(id);
    if (!record) throw new RestProblem(404, `Activity "${id}" does not exist.`, 'Not found.');
    return record;
  }

  private fields(body: unknown): Record<string, unknown> {
    const record: unknown = Array.isArray(body) && body.length === 1 ? (body as unknown[])[0] : body;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new RestProblem(400, 'The body must be an activity object.');
    const unknown = Object.keys(record).filter((k) => !WRITABLE.has(k));
    if (unknown.length > 0) throw new RestProblem(400, `Unknown field(s): ${unknown.join(', ')}.`);
    return record as Record<string, unknown>;
  }

  private validate(merged: ActivityRecord): void {
    if (!merged.Type) throw new RestProblem(400, 'Type is required.');
    if (!merged.Subject) throw new RestProblem(400, 'Subject is required.');
    if (!ACTIVITY_TYPES.some((t) => t.Code === merged.Type)) throw new RestProblem(400, `Type "${merged.Type}" is not a valid value of CFGActivityType.`);
    for (const name of ['StartDate', 'EndDate'] as const) {
      const value = merged[name];
      if (value !== '' && value !== undefined && !DATE.test(String(value))) throw new RestProblem(400, `${name} "${value}" is not a date-time (yyyy-MM-ddTHH:mm:ss.fff).`);
    }
    if (merged.StartDate && merged.EndDate && String(merged.EndDate) < String(merged.StartDate)) throw new RestProblem(400, 'EndDate is before StartDate.');
    for (const name of ['AllDayEventInd', 'CompletionInd', 'PrivateInd'] as const) {
      if (!YN.has(String(merged[name]))) throw new RestProblem(400, `${name} must be Y or N.`);
    }
  }

  private create(body: unknown, username: string): ActivityRecord {
    const input = this.fields(body);
    const id = randomBytes(16).toString('hex').toUpperCase();
    const at = vantagepointNow(this.now());
    const record: ActivityRecord = {
      ActivityID: id,
      Type: '',
      Subject: '',
      StartDate: '',
      EndDate: '',
      HasNotes: 'N',
      Notes: '',
      CompletionInd: 'N',
      PrivateInd: 'N',
      AllDayEventInd: 'N',
      RecurrenceInd: 'N',
      RecurrType: '',
      Owner: '',
      Location: '',
      Attendees: '',
      Associations: '',
      CreateUser: username,
      CreateDate: at,
      ModUser: username,
      ModDate: at,
      ...Object.fromEntries(Object.entries(input).filter(([k, v]) => k !== 'ActivityID' && (typeof v === 'string' || typeof v === 'number'))),
    };
    record.HasNotes = record.Notes ? 'Y' : 'N';
    this.validate(record);
    this.records.set(id, record);
    return { ...record };
  }

  private update(id: string, body: unknown, username: string): ActivityRecord {
    const current = this.require(id);
    const input = this.fields(body);
    if (typeof input.ActivityID === 'string' && input.ActivityID.toUpperCase() !== String(current.ActivityID).toUpperCase()) {
      throw new RestProblem(400, 'ActivityID in the body does not match the URL.');
    }
    const merged: ActivityRecord = { ...current };
    for (const [k, v] of Object.entries(input)) if (k !== 'ActivityID' && (typeof v === 'string' || typeof v === 'number')) merged[k] = v;
    merged.HasNotes = merged.Notes ? 'Y' : 'N';
    merged.ModUser = username;
    merged.ModDate = vantagepointNow(this.now());
    this.validate(merged);
    this.records.set(String(current.ActivityID), merged);
    return { ...merged };
  }

  private list(query: URLSearchParams): ActivityRecord[] {
    const page = Number(query.get('page') ?? '1');
    const size = Math.min(MAX_PAGE_SIZE, Number(query.get('pageSize') ?? query.get('limit') ?? String(MAX_PAGE_SIZE)));
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1) throw new RestProblem(400, 'page must be >= 1 and pageSize > 0.');
    let rows = this.all();
    const order = /^(\w+)_(A|D)$/i.exec(query.get('order') ?? '');
    if (order?.[1]) {
      const column = order[1];
      const sign = order[2]?.toUpperCase() === 'D' ? -1 : 1;
      rows = rows.sort((a, b) => sign * String(a[column] ?? '').localeCompare(String(b[column] ?? '')) || String(a.ActivityID).localeCompare(String(b.ActivityID)));
    }
    const filter = (query.get('fieldFilter') ?? '').split(',').map((f) => f.trim()).filter((f) => f.length > 0);
    const slice = rows.slice((page - 1) * size, page * size);
    return filter.length === 0 ? slice : slice.map((r) => Object.fromEntries(filter.filter((f) => f in r).map((f) => [f, r[f] as string | number])));
  }
}
