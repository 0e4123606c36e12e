/**
 * Organisation-wide failures that stop synchronization for everyone, announced once per
 * episode to the notification list: the Vantagepoint API credential being refused (checked
 * by the timer) and Microsoft Graph access lost / recovered (reported by the provider-health
 * breaker's transitions).
 */
import { describe, type Log } from '../http/endpoint';
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

/** A transition of the provider-health breaker, as it reports it. */
export interface GraphAccessTransition {
  state: 'lost' | 'recovered';
  /** when access was lost: the episode both emails belong to */
  lostAt: string;
  detail: string;
}

/**
 * The hook the provider-health breaker calls on each transition: one email to the list
 * when Graph access is lost, one when it is back. Any instance may report the same
 * transition: the outbox sends each (recipient, cause, episode) once.
 */
export async function announceGraphAccess(deps: Pick<Services, 'storage'>, transition: GraphAccessTransition, ctx: Pick<Ctx, 'log' | 'requestId'>): Promise<void> {
  try {
    await publishNotice(
      deps,
      { cause: transition.state === 'lost' ? 'graph_access_lost' : 'graph_access_recovered', episode: `graph-access@${transition.lostAt}`, detail: transition.detail },
      ctx,
    );
  } catch (err) {
    ctx.log('notify.graph_access_failed', { state: transition.state, error: describe(err) });
  }
}
