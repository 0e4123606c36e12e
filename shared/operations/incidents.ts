/**
 * Organisation-wide failures that stop synchronization for everyone, announced once per
 * episode to the notification list: the Vantagepoint API credential being refused (checked
 * by the timer) and Microsoft Graph access lost / recovered (reported by the provider-health
 * breaker's transitions).
 */
import type { Log } from '../logging';
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

/**
 * A transition of the provider-health breaker, as it tells its listeners (the shape of
 * ports' GraphAccessEvent: `since` is when access was lost, for both transitions).
 */
export interface GraphAccessChange {
  kind: 'lost' | 'recovered';
  since: string;
  code: string | null;
  message: string | null;
}

/**
 * The breaker's listener for notification emails: one email to the list when Graph access
 * is lost, one when it is back. The breaker tells each transition once; should two
 * instances ever both tell it, the outbox still sends each (recipient, cause, episode)
 * once. A queue failure is thrown for the breaker to log; the transition stands.
 */
export function graphAccessNotices(deps: Pick<Services, 'storage'>) {
  return {
    async graphAccessChanged(change: GraphAccessChange): Promise<void> {
      const detail = [change.code, change.message].filter((part): part is string => !!part).join(': ');
      await deps.storage.noticeQueue.publish({
        notice: { cause: change.kind === 'lost' ? 'graph_access_lost' : 'graph_access_recovered', episode: `graph-access@${change.since}`, detail },
        requestId: `graph-access-${change.kind}-${change.since}`,
        attempt: 1,
      });
    },
  };
}
