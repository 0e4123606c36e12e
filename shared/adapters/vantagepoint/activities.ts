/**
 * Vantagepoint activities (Activities hub, Deltek's Postman collection: "Create an Activity",
 * "Update an Activity", "Activity"; API reference "Pagination", "Responses"). Every write sends
 * `startWorkflow=N` (customers' workflows are not triggered by a sync) and the header
 * `dvp-applicationId: Activity`, which Deltek documents as required for Connect.
 *
 * Not documented by Deltek, so the client copes with each plausible answer (docs/DATA-SYNC.md):
 * - DELETE /api/activity/{id}: 2xx or 404 → gone; 405/403/400/501 → `refused` (the caller marks it).
 * - a caller-supplied ActivityID on POST: never sent; orphans are found by the reference in Notes.
 * - single records come back as arrays (like every Vantagepoint answer) or as objects: both read.
 * - a missing record: 404 or 200 [] — both "gone".
 */
import { z } from 'zod';
import type { Config } from '../../config';
import type { ActivityFields } from '../../domain/events';
import { ServiceUnavailableError } from '../../errors';
import type { ActivityTypeCheck, ActivityWriteResult, ActivityWriter, SecretSource } from '../../ports';
import { restDetail, VantagepointApi, type ApiResponse } from './api';
import { ServiceTokens } from './tokens';

/** Deltek's documented maximum page size for list calls. */
export const ACTIVITY_PAGE_SIZE = 100;
/** The orphan search reads at most this many pages (newest first) before giving up and creating. */
const ORPHAN_SCAN_PAGES = 20;
const WRITE_QUERY = 'startWorkflow=N';
/** Deltek: "required when working with Vantagepoint Connect"; sent on the activity reads too (it scopes fetching). */
const WRITE_HEADERS = { 'dvp-applicationId': 'Activity' } as const;

const activityRecord = z.object({ ActivityID: z.string().min(1) }).loose();
const listedActivity = z
  .object({ ActivityID: z.string().min(1), Notes: z.string().nullish(), Owner: z.string().nullish(), CreateDate: z.string().nullish() })
  .loose();

/** The first record of an answer that is an array (Vantagepoint's way) or a single object. */
function firstRecord(body: unknown): unknown {
  return Array.isArray(body) ? body[0] : body;
}

type Failure = Extract<ActivityWriteResult, { ok: false }>;

function failureOf(response: ApiResponse, what: string): Failure {
  const detail = restDetail(response.body);
  const message = `Vantagepoint answered ${response.status} to ${what}${detail}.`;
  if (response.status === 404) return { ok: false, failure: 'gone', status: 404, code: 'ACTIVITY_NOT_FOUND', message };
  if (response.status === 429 || response.status === 408) return { ok: false, failure: 'transient', status: response.status, code: 'VANTAGEPOINT_BUSY', message };
  return { ok: false, failure: 'permanent', status: response.status, code: response.status === 403 ? 'VANTAGEPOINT_FORBIDDEN' : 'VANTAGEPOINT_REJECTED', message };
}

export interface ActivityWriterOptions {
  fetch?: typeof fetch;
  now?: () => number;
}

class HttpActivityWriter implements ActivityWriter {
  private readonly api: VantagepointApi;
  private readonly tokens: ServiceTokens;

  constructor(config: Config, secrets: SecretSource, options: ActivityWriterOptions) {
    this.api = new VantagepointApi(config.VANTAGEPOINT_BASE_URL, options.fetch ?? fetch);
    this.tokens = new ServiceTokens(config, secrets, this.api, options.now ?? Date.now);
  }

  /** One call with the service token; a 401 drops the token and tries once more. 5xx/unreachable throw (transient). */
  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.accessToken();
      const response = await this.api.request(method, path, token, body, headers);
      if (response.status !== 401 || attempt > 0) return response;
      this.tokens.discard(token);
    }
  }

  async create(fields: ActivityFields): Promise<ActivityWriteResult> {
    const response = await this.call('POST', `/activity?${WRITE_QUERY}`, fields, WRITE_HEADERS);
    if (response.status < 200 || response.status >= 300) return failureOf(response, 'POST /activity');
    const record = activityRecord.safeParse(firstRecord(response.body));
    if (!record.success) {
      // Created, but we cannot tell which record: the retry's orphan search finds it by its reference.
      throw new ServiceUnavailableError('vantagepoint', 'Vantagepoint answered the create without an ActivityID.', 30);
    }
    return { ok: true, activityId: record.data.ActivityID };
  }

  async update(activityId: string, fields: Partial<ActivityFields>): Promise<ActivityWriteResult> {
    const response = await this.call('PUT', `/activity/${encodeURIComponent(activityId)}?${WRITE_QUERY}`, fields, WRITE_HEADERS);
    if (response.status < 200 || response.status >= 300) return failureOf(response, 'PUT /activity/{id}');
    // 200 [] would mean "no such record" (the practice for missing keys)
    if (Array.isArray(response.body) && response.body.length === 0) return failureOf({ status: 404, body: null }, 'PUT /activity/{id}');
    return { ok: true, activityId };
  }

  async remove(activityId: string) {
    const response = await this.call('DELETE', `/activity/${encodeURIComponent(activityId)}?${WRITE_QUERY}`, undefined, WRITE_HEADERS);
    if ((response.status >= 200 && response.status < 300) || response.status === 404) return { ok: true as const, activityId };
    if ([400, 403, 405, 501].includes(response.status)) {
      return { ok: false as const, failure: 'refused' as const, status: response.status, code: 'DELETE_REFUSED', message: `Vantagepoint refused DELETE (${response.status}${restDetail(response.body)}).` };
    }
    return failureOf(response, 'DELETE /activity/{id}');
  }

  async findByReference(reference: string, owner: string, since: string): Promise<string | null> {
    const sinceMs = Date.parse(since) - 10 * 60_000; // clock skew between us and Vantagepoint
    for (let page = 1; page <= ORPHAN_SCAN_PAGES; page++) {
      const query = new URLSearchParams({
        page: String(page),
        pageSize: String(ACTIVITY_PAGE_SIZE),
        order: 'CreateDate_D',
        fieldFilter: 'ActivityID,Notes,Owner,CreateDate',
      });
      const response = await this.call('GET', `/activity?${query.toString()}`, undefined, WRITE_HEADERS);
      if (response.status === 404) return null;
      if (response.status !== 200 || !Array.isArray(response.body)) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint answered ${response.status} to the activity list.`, 30);
      const rows = response.body.map((r) => listedActivity.safeParse(r)).flatMap((r) => (r.success ? [r.data] : []));
      const hit = rows.find((r) => (r.Notes ?? '').includes(reference) && (!r.Owner || r.Owner.toLowerCase() === owner.toLowerCase()));
      if (hit) return hit.ActivityID;
      const created = rows.map((r) => Date.parse(`${r.CreateDate ?? ''}`.replace(/Z?$/, 'Z'))).filter((t) => Number.isFinite(t));
      // Newest first: once a whole page is older than the intent, the orphan is not there.
      const sorted = created.every((t, i) => i === 0 || t <= (created[i - 1] as number));
      if (rows.length < ACTIVITY_PAGE_SIZE) return null;
      if (sorted && created.length === rows.length && created.every((t) => t < sinceMs)) return null;
    }
    return null;
  }

  async checkActivityType(type: string): Promise<ActivityTypeCheck> {
    let response: ApiResponse;
    try {
      response = await this.call('GET', `/codeTable/CFGActivityType/${encodeURIComponent(type)}`);
    } catch (err) {
      return { known: 'unverifiable', message: err instanceof Error ? err.message : String(err) };
    }
    if (response.status === 200 && firstRecord(response.body) !== undefined && !(Array.isArray(response.body) && response.body.length === 0)) return { known: true };
    if (response.status === 404 || (response.status === 200 && Array.isArray(response.body) && response.body.length === 0)) {
      return { known: false, message: `Activity type '${type}' is not in Vantagepoint's CFGActivityType code table; set ACTIVITY_TYPE to a Calendar activity type.` };
    }
    return { known: 'unverifiable', message: `Vantagepoint answered ${response.status} to the activity type look-up${restDetail(response.body)}; the type is used unchecked.` };
  }
}

export function createActivityWriter(config: Config, secrets: SecretSource, options: ActivityWriterOptions = {}): ActivityWriter {
  return new HttpActivityWriter(config, secrets, options);
}
