/**
 * The provider-health breaker at organisation level. When Graph refuses the app itself
 * (credentials, tokens, permission) or fails for the whole tenant, nobody is charged
 * (the reducer treats `unavailable` as neutral) and reconciling stops until a probe —
 * a delayed queue message, every PROBE_SECONDS — finds Graph usable again; then every
 * group is swept so work resumes within a minute of recovery, with no admin action.
 *
 * The state is one row shared by every instance (GraphAccessStore), changed under its
 * ETag: of two instances seeing the same transition, one writes it and only that one
 * tells the listeners (GraphAccessListener: "organisation Graph access lost/recovered").
 */
import { randomUUID } from 'node:crypto';
import { accessVerdict, type AccessVerdict } from '../domain/graphAccess';
import { PreconditionFailedError } from '../errors';
import { describe, type Log } from '../logging';
import type { GraphAccess, GraphAccessEvent, GraphAccessListener, GraphAccessStore, MailOperationResult, MailProvider, ReconcileQueue } from '../ports';

/** How long after a failure (or a failed probe) the next probe runs. */
export const PROBE_SECONDS = 20;
/** The sweep schedules a probe when none has run for this long (a lost probe message must not strand the breaker). */
export const PROBE_STALE_MS = 2 * 60_000;
/** Reads of the breaker are cached this long per process: a hint only, every transition is ETag-guarded. */
const CACHE_MS = 3_000;

export interface AccessDeps {
  storage: { graphAccess: GraphAccessStore; reconcileQueue: ReconcileQueue };
  graphAccessListeners?: GraphAccessListener[] | undefined;
}

export const ACCESS_OK: GraphAccess = { state: 'ok', cause: null, code: null, message: null, since: null, lastProbeAt: null, probeEmployeeIds: [] };

const cache = new WeakMap<GraphAccessStore, { at: number; access: GraphAccess }>();

/** The organisation's Graph access; `fresh` skips the per-process cache. */
export async function currentGraphAccess(deps: AccessDeps, fresh = false): Promise<GraphAccess> {
  const hit = cache.get(deps.storage.graphAccess);
  if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.access;
  const access = (await deps.storage.graphAccess.get())?.access ?? ACCESS_OK;
  cache.set(deps.storage.graphAccess, { at: Date.now(), access });
  return access;
}

interface Ctx {
  now: Date;
  log: Log;
}

/** Read-modify-write of the breaker row under its ETag; `change` returns null for "nothing to write". */
async function update(deps: AccessDeps, change: (current: GraphAccess) => GraphAccess | null): Promise<{ before: GraphAccess; after: GraphAccess } | null> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const stored = await deps.storage.graphAccess.get();
    const before = stored?.access ?? ACCESS_OK;
    const after = change(before);
    if (!after) return null;
    try {
      await deps.storage.graphAccess.save(after, stored?.etag ?? null);
      cache.set(deps.storage.graphAccess, { at: Date.now(), access: after });
      return { before, after };
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }
  return null;
}

async function tell(deps: AccessDeps, event: GraphAccessEvent, log: Log): Promise<void> {
  log(event.kind === 'lost' ? 'graph.access_lost' : 'graph.access_recovered', { cause: event.cause, code: event.code, since: event.since });
  for (const listener of deps.graphAccessListeners ?? []) {
    try {
      await listener.graphAccessChanged(event, log);
    } catch (err) {
      log('graph.access_listener_failed', { kind: event.kind, error: describe(err) });
    }
  }
}

function scheduleProbe(deps: AccessDeps, log: Log): Promise<void> {
  return deps.storage.reconcileQueue
    .request({ probeGraph: true, reason: 'graph.probe', requestId: `probe-${randomUUID()}` }, { delaySeconds: PROBE_SECONDS })
    .catch((err: unknown) => log('graph.probe_schedule_failed', { error: describe(err) }));
}

/** Records that Graph cannot be used; the instance that flips the state schedules the probe and tells the listeners. */
export async function markUnavailable(deps: AccessDeps, verdict: Extract<AccessVerdict, { kind: 'unavailable' }>, probeEmployeeIds: string[], ctx: Ctx): Promise<void> {
  const at = ctx.now.toISOString();
  const written = await update(deps, (current) =>
    current.state === 'failing'
      ? null
      : { state: 'failing', cause: verdict.cause, code: verdict.code, message: verdict.message, since: at, lastProbeAt: null, probeEmployeeIds: probeEmployeeIds.slice(0, 3) },
  );
  if (!written) return;
  await scheduleProbe(deps, ctx.log);
  await tell(deps, { kind: 'lost', cause: verdict.cause, code: verdict.code, message: verdict.message, since: at, at }, ctx.log);
}

/** Records that Graph works again; the instance that flips the state tells the listeners. True when this call flipped it. */
export async function markRecovered(deps: AccessDeps, ctx: Ctx): Promise<boolean> {
  const at = ctx.now.toISOString();
  const written = await update(deps, (current) => (current.state === 'ok' ? null : { ...ACCESS_OK, since: at }));
  if (!written) return false;
  const { before } = written;
  await tell(deps, { kind: 'recovered', cause: before.cause, code: before.code, message: before.message, since: before.since ?? at, at }, ctx.log);
  return true;
}

/**
 * What a set of provider results says, applied to the breaker: a failure of the app trips it
 * (the members met by it are kept for the probe). Only a probe (`probe: true`) closes it: a
 * run that began before the trip must not reopen the gate on stale evidence.
 */
export async function noteProviderResults(deps: AccessDeps, results: readonly MailOperationResult[], employeeIds: readonly string[], ctx: Ctx & { probe?: boolean }): Promise<AccessVerdict> {
  const verdict = accessVerdict(results);
  if (verdict.kind === 'unavailable') {
    const met = [...new Set(employeeIds.filter((_, i) => { const r = results[i]; return r !== undefined && !r.ok && r.failure === 'unavailable'; }))];
    await markUnavailable(deps, verdict, met, ctx);
  } else if (verdict.kind === 'reachable' && ctx.probe) {
    await markRecovered(deps, ctx);
  }
  return verdict;
}

/**
 * The probe: one instance at a time (the probe time is written under the ETag first) re-runs the
 * work of the members the failure met; `retry` does that through the reconciler (which notes the
 * results as a probe). When that sends nothing, one page of the subscription list stands in.
 * Still failing → the next probe is scheduled. Returns true when access came back.
 */
export async function probeGraphAccess(
  deps: AccessDeps & { mail: MailProvider },
  retry: (employeeIds: string[]) => Promise<AccessVerdict>,
  ctx: Ctx,
): Promise<boolean> {
  const at = ctx.now.toISOString();
  const claimed = await update(deps, (current) => {
    if (current.state !== 'failing') return null;
    // Another instance probed moments ago: its own next probe is already scheduled.
    if (current.lastProbeAt && ctx.now.getTime() - Date.parse(current.lastProbeAt) < (PROBE_SECONDS * 1000) / 2) return null;
    return { ...current, lastProbeAt: at };
  });
  if (!claimed) return (await currentGraphAccess(deps, true)).state === 'ok';
  let verdict = claimed.after.probeEmployeeIds.length > 0 ? await retry(claimed.after.probeEmployeeIds) : ({ kind: 'unknown' } as AccessVerdict);
  if (verdict.kind === 'unknown') {
    try {
      await deps.mail.listSubscriptions(null);
      verdict = { kind: 'reachable' };
      await markRecovered(deps, ctx);
    } catch (err) {
      ctx.log('graph.probe_list_failed', { error: describe(err) });
    }
  }
  const recovered = (await currentGraphAccess(deps, true)).state === 'ok';
  ctx.log('graph.probe', { recovered, verdict: verdict.kind });
  if (!recovered) await scheduleProbe(deps, ctx.log);
  return recovered;
}

/** The sweep's safety net: a failing breaker with no probe for a while gets one. */
export async function ensureProbe(deps: AccessDeps, ctx: Ctx): Promise<void> {
  const access = await currentGraphAccess(deps, true);
  if (access.state !== 'failing') return;
  const last = Date.parse(access.lastProbeAt ?? access.since ?? '') || 0;
  if (ctx.now.getTime() - last > PROBE_STALE_MS) await scheduleProbe(deps, ctx.log);
}
