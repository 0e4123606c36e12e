/**
 * JSON batching (concepts/json-batching.md): up to 20 requests, ids unique ignoring case,
 * `Content-Type` required with a body, `dependsOn` for ordering (a dependent of a failed
 * request answers 424), responses in any order. With throttled requests inside, the batch
 * answers 200 or — in the `throttledBatch: 424` fault — 424 itself (concepts/throttling.md);
 * either way each inner 429 carries its own Retry-After.
 */
import { z } from 'zod';
import { graphError, issuesOf, type GraphResponse } from './http';
import type { Caller } from './state';

export const MAX_BATCH = 20;

const batchBody = z.object({
  requests: z
    .array(
      z.object({
        id: z.string().min(1),
        method: z.enum(['GET', 'POST', 'PATCH', 'DELETE', 'PUT']),
        url: z.string().min(1),
        headers: z.record(z.string(), z.string()).optional(),
        body: z.unknown().optional(),
        dependsOn: z.array(z.string().min(1)).optional(),
      }),
    )
    .min(1)
    .max(MAX_BATCH)
    .refine((rs) => new Set(rs.map((r) => r.id.toLowerCase())).size === rs.length, 'request ids must be unique (ignoring case)'),
});
type BatchRequest = z.infer<typeof batchBody>['requests'][number];

export interface BatchResponseItem {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** One sub-request, run by the emulator as a direct call would be. */
export type RunOne = (caller: Caller, method: string, path: string, headers: Record<string, string>, body: unknown) => Promise<GraphResponse>;

const lower = (headers: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** A dependency on an unknown id, or a cycle, fails the whole batch with 400 as Graph does. */
function dependencyProblem(requests: BatchRequest[]): string | null {
  const byId = new Map(requests.map((r) => [r.id.toLowerCase(), r]));
  for (const r of requests) for (const d of r.dependsOn ?? []) if (!byId.has(d.toLowerCase())) return `request '${r.id}' depends on unknown request '${d}'`;
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string): boolean => {
    if (done.has(id)) return true;
    if (visiting.has(id)) return false;
    visiting.add(id);
    const ok = (byId.get(id)?.dependsOn ?? []).every((d) => visit(d.toLowerCase()));
    done.add(id);
    return ok;
  };
  return requests.every((r) => visit(r.id.toLowerCase())) ? null : 'dependsOn forms a cycle';
}

export async function runBatch(caller: Caller, body: unknown, runOne: RunOne, throttledBatch: '200' | '424'): Promise<GraphResponse> {
  const parsed = batchBody.safeParse(body);
  if (!parsed.success) return graphError(400, 'BadRequest', issuesOf(parsed.error));
  const { requests } = parsed.data;
  const problem = dependencyProblem(requests);
  if (problem) return graphError(400, 'BadRequest', problem);

  const running = new Map<string, Promise<BatchResponseItem>>();
  const run = (r: BatchRequest): Promise<BatchResponseItem> => {
    const key = r.id.toLowerCase();
    let promise = running.get(key);
    if (promise) return promise;
    promise = (async (): Promise<BatchResponseItem> => {
      const deps = await Promise.all((r.dependsOn ?? []).map((d) => run(requests.find((x) => x.id.toLowerCase() === d.toLowerCase()) as BatchRequest)));
      const failed = deps.find((d) => d.status < 200 || d.status >= 300);
      if (failed) return item(r.id, graphError(424, 'FailedDependency', `The request depends on request '${failed.id}', which failed.`));
      const headers = lower(r.headers);
      if (r.body !== undefined && !headers['content-type']) {
        return item(r.id, graphError(400, 'BadRequest', 'A Content-Type header is required for a request with a body.'));
      }
      const path = r.url.startsWith('/') ? r.url : `/${r.url}`;
      return item(r.id, await runOne(caller, r.method, path, headers, r.body));
    })();
    running.set(key, promise);
    return promise;
  };
  // Requests without dependsOn run in any order, in parallel.
  const responses = await Promise.all(requests.map(run));
  const throttled = responses.some((r) => r.status === 429);
  return { status: throttled && throttledBatch === '424' ? 424 : 200, body: { responses } };
}

function item(id: string, answer: GraphResponse): BatchResponseItem {
  return { id, status: answer.status, headers: { 'Content-Type': 'application/json', ...answer.headers }, body: answer.body ?? null };
}
