/**
 * The organisation-level view of Graph: can the app use it at all? Pure rules; the
 * breaker (operations/graphAccess.ts) stores the answer and acts on it.
 */
import type { MailOperationResult, ProviderAccessCause } from '../ports';

export type AccessVerdict =
  | { kind: 'unavailable'; cause: ProviderAccessCause; code: string; message: string }
  /** Graph answered something about the requests themselves: the app can use it */
  | { kind: 'reachable' }
  /** nothing was asked, nothing learnt */
  | { kind: 'unknown' };

/**
 * What one set of provider results says about access. Credentials, a refused token and a missing
 * permission are about the app whoever the mailbox, so one such answer is enough. A service failure
 * counts only when nothing in the set got through: Graph failing for some requests while it
 * answers others is not an outage of the tenant.
 */
export function accessVerdict(results: readonly MailOperationResult[]): AccessVerdict {
  const unavailable = results.flatMap((r) => (!r.ok && r.failure === 'unavailable' ? [r] : []));
  const appWide = unavailable.find((r) => r.cause !== undefined && r.cause !== 'SERVICE');
  if (appWide) return { kind: 'unavailable', cause: appWide.cause as ProviderAccessCause, code: appWide.code, message: appWide.message };
  const answered = results.length - unavailable.length;
  if (answered > 0) return { kind: 'reachable' };
  const first = unavailable[0];
  return first ? { kind: 'unavailable', cause: first.cause ?? 'SERVICE', code: first.code, message: first.message } : { kind: 'unknown' };
}

export const ACCESS_CAUSE_MESSAGES: Record<ProviderAccessCause, string> = {
  CREDENTIALS: "The identity platform refuses the app's credentials (an expired or wrong client secret, or a managed identity without access).",
  UNAUTHORIZED: "Microsoft Graph refuses the app's tokens.",
  PERMISSION: "The app's Microsoft Graph permission or admin consent is missing (Calendars.Read, Contacts.Read, Mail.Read as application permissions).",
  SERVICE: 'Microsoft Graph is failing or unreachable for the whole tenant.',
};
