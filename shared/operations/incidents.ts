/**
 * Organisation-wide failures that stop synchronization for everyone, announced once per
 * episode to the notification list: the Vantagepoint API credential being refused (checked
 * by the timer) and Microsoft Graph access lost / recovered (the provider-health breaker's
 * transitions, told by its listener and looked at again by every sweep).
 */
import type { Log } from '../logging';
import type { GraphAccess, GraphAccessEvent } from '../ports';
import type { Services } from '../services';
import { publishNotice } from './outbox';

interface Ctx {
  now: () => Date;
  log: Log;
  requestId: string;
}

/**
 * The timer's credential check (level-triggered, one writer): a refusal opens an incident
 * (its start is the episode) and queues one notice; the next checks only retry a notice
 * that could not be queued; an accepted credential closes the incident. Vantagepoint being
 * unreachable is not a credential failure and changes nothing here.
 */
export async function checkVantagepointCredential(deps: Pick<Services, 'storage' | 'directory'>, ctx: Ctx): Promise<'ok' | 'failing' | 'unknown'> {
  const check = await deps.directory.checkCredentials();
  const incident = await deps.storage.incidents.get('vantagepoint-credential');
  if (check.ok) {
    if (incident) {
      await deps.storage.incidents.clear('vantagepoint-credential');
      ctx.log('connect.credential_recovered', { since: incident.since });
    }
    return 'ok';
  }
  if (!check.rejected) return 'unknown';
  const since = incident?.since ?? ctx.now().toISOString();
  let noticeQueued = incident?.noticeQueued ?? false;
  if (!noticeQueued) {
    noticeQueued = await publishNotice(deps, { cause: 'vantagepoint_credential_failing', episode: `vantagepoint-credential@${since}`, detail: check.message }, ctx);
  }
  if (!incident || incident.noticeQueued !== noticeQueued) {
    await deps.storage.incidents.put('vantagepoint-credential', { since, detail: check.message, noticeQueued });
    ctx.log('connect.credential_failing', { since, detail: check.message });
  }
  return 'failing';
}

/** The part of the breaker's state an announcement needs (failing: `since` is when access was lost). */
export type GraphAccessState = Pick<GraphAccess, 'state' | 'since' | 'code' | 'message'>;

/**
 * Graph access lost / recovered, told to the list once per episode (its start is the episode),
 * at least once: the `graph-access` incident remembers what was queued, so whatever missed
 * it — the breaker's listener failing to queue, or an instance dying between the breaker's
 * write and the listener's call — is made good by the next look (the sweep, every 5 minutes).
 * A recovery is told only for a loss that was told; two lookers at once queue the same
 * episode, which the outbox sends once.
 */
export async function announceGraphAccess(deps: Pick<Services, 'storage'>, access: GraphAccessState, ctx: Ctx): Promise<void> {
  const incident = await deps.storage.incidents.get('graph-access');
  if (access.state === 'failing' && access.since) {
    if (incident?.since === access.since && incident.noticeQueued) return;
    const detail = [access.code, access.message].filter((part): part is string => !!part).join(': ');
    const noticeQueued = await publishNotice(deps, { cause: 'graph_access_lost', episode: `graph-access@${access.since}`, detail }, ctx);
    await deps.storage.incidents.put('graph-access', { since: access.since, detail, noticeQueued });
    return;
  }
  if (access.state !== 'ok' || !incident) return;
  if (incident.noticeQueued) {
    const detail = `Access was lost at ${incident.since}${incident.detail ? ` (${incident.detail})` : ''} and works again since ${access.since ?? ctx.now().toISOString()}.`;
    const queued = await publishNotice(deps, { cause: 'graph_access_recovered', episode: `graph-access@${incident.since}`, detail }, ctx);
    if (!queued) return; // the next look tries again
  }
  await deps.storage.incidents.clear('graph-access');
  ctx.log('graph.access_incident_closed', { since: incident.since, told: incident.noticeQueued });
}

/**
 * The breaker's listener (GraphAccessListener, registered in Services): the fast path of
 * announceGraphAccess, at each transition the breaker writes.
 */
export function graphAccessNotices(deps: Pick<Services, 'storage'>) {
  return {
    async graphAccessChanged(event: GraphAccessEvent, log: Log): Promise<void> {
      const ctx: Ctx = { now: () => new Date(event.at), log, requestId: `graph-access-${event.kind}-${event.since}` };
      const access: GraphAccessState =
        event.kind === 'lost' ? { state: 'failing', since: event.since, code: event.code, message: event.message } : { state: 'ok', since: event.at, code: null, message: null };
      await announceGraphAccess(deps, access, ctx);
    },
  };
}
