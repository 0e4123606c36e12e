/**
 * Notification emails: what stopped, for whom, why, and what to do (the fix and the
 * Force action). Pure: a notice in, the messages to send out, each with the key that
 * de-duplicates it (recipient, cause, episode).
 */
import type { MailboxReason } from './model';
import { isValidEmail } from './email';

export const NOTICE_CAUSES = [
  'user_suspended',
  'graph_access_lost',
  'graph_access_recovered',
  'vantagepoint_credential_failing',
  'group_held',
] as const;
export type NoticeCause = (typeof NOTICE_CAUSES)[number];

interface NoticeBase {
  /** identifies one occurrence of the cause (e.g. when the suspension began): a redelivery of the same episode sends nothing */
  episode: string;
}

export type Notice =
  | (NoticeBase & {
      cause: 'user_suspended';
      employeeId: string;
      name: string;
      email: string;
      groupId: string | null;
      reason: 'TOO_MANY_FAILURES' | MailboxReason;
      detail: string;
    })
  | (NoticeBase & { cause: 'graph_access_lost' | 'graph_access_recovered'; detail: string })
  | (NoticeBase & { cause: 'vantagepoint_credential_failing'; detail: string })
  | (NoticeBase & {
      cause: 'group_held';
      groupId: string;
      groupName: string;
      count: number;
      activeMembers: number;
      limit: number;
      /** the first of those who would go, by name (the count says how many) */
      people?: string[];
      detail: string;
    });

export interface NoticeMail {
  to: string;
  subject: string;
  body: string;
  /** the de-duplication key: one email per (recipient, cause, episode), whatever the redeliveries */
  key: { recipient: string; cause: NoticeCause; episode: string };
}

const SIGNATURE = '\n\n-- \nConnect Sync (Deltek Vantagepoint Connect Administration). You receive this because your address is in "Emails for Notifications" (GET/PUT /api/connect/settings).';

const USER_FOOTER = '\n\n-- \nConnect Sync (Deltek Vantagepoint Connect). You receive this because your mailbox is synchronized with Vantagepoint.';

function why(reason: 'TOO_MANY_FAILURES' | MailboxReason): string {
  switch (reason) {
    case 'MAILBOX_NOT_FOUND':
      return 'Microsoft 365 has no Exchange Online mailbox for this address (or it is not enabled for the REST API).';
    case 'MAILBOX_ACCESS_DENIED':
      return "Microsoft 365 refused access to this mailbox (an application access policy excludes it, or the app's mailbox permissions are missing).";
    case 'TOO_MANY_FAILURES':
      return 'Synchronization failed too many times in a row.';
  }
}

function fixFor(reason: 'TOO_MANY_FAILURES' | MailboxReason): string {
  switch (reason) {
    case 'MAILBOX_NOT_FOUND':
      return "Give the user an Exchange Online mailbox, or correct the employee's email address in Vantagepoint.";
    case 'MAILBOX_ACCESS_DENIED':
      return "Ask your Microsoft 365 administrator to include this mailbox in the app's application access policy (or grant the missing permission).";
    case 'TOO_MANY_FAILURES':
      return 'Look at the last errors on the user\'s "why" view (GET /api/users/{employeeId}/sync) and fix their cause.';
  }
}

/** ": A (E1), B (E2) and 3 more", or nothing when nobody is named. */
function named(people: readonly string[], count: number): string {
  if (people.length === 0) return '';
  const more = count - people.length;
  return `: ${people.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** One notice → the emails to send: the list always; for a suspension also the user. */
export function composeNotice(notice: Notice, list: readonly string[]): NoticeMail[] {
  const mails: Array<Omit<NoticeMail, 'key'>> = [];
  const toList = (subject: string, body: string) => {
    for (const to of list) mails.push({ to, subject, body: body + SIGNATURE });
  };
  switch (notice.cause) {
    case 'user_suspended': {
      const who = `${notice.name || notice.employeeId} (${notice.employeeId}, ${notice.email || 'no email'})`;
      const force = `POST /api/users/${notice.employeeId}/sync/force ("Force" on the user in Connect Administration)`;
      const subject = `Connect: synchronization stopped for ${notice.name || notice.employeeId}`;
      const text = [
        `What stopped: Outlook synchronization (calendar, contacts, mail) between Vantagepoint and Microsoft 365.`,
        `For whom: ${who}${notice.groupId ? `, group ${notice.groupId}` : ''}.`,
        `Why: ${why(notice.reason)} ${notice.detail}`.trim(),
        `What to do: ${fixFor(notice.reason)} Then force a sync: ${force}. Synchronization stays suspended until someone does.`,
      ].join('\n\n');
      if (notice.email && isValidEmail(notice.email)) {
        mails.push({
          to: notice.email.trim(),
          subject: 'Your Outlook synchronization with Vantagepoint has stopped',
          body:
            `Synchronization between Vantagepoint and your Outlook mailbox (${notice.email.trim()}) has stopped.\n\n` +
            `Why: ${why(notice.reason)}\n\n` +
            `What to do: nothing on your side in most cases; your Connect administrators have been told and will restart it once the cause is fixed ("Force" sync).` +
            USER_FOOTER,
        });
      }
      toList(subject, text);
      break;
    }
    case 'graph_access_lost':
      toList(
        'Connect: Microsoft 365 access lost — synchronization stopped for everyone',
        [
          'What stopped: Outlook synchronization for every user of every group (no subscription can be created, renewed or deleted).',
          "For whom: the whole organisation (no user is charged with this failure: nobody's failure count grows).",
          `Why: Microsoft Graph refuses the app. ${notice.detail}`.trim(),
          'What to do: check the Entra ID app registration: admin consent for Calendars.Read, Contacts.Read, Mail.Read (and Mail.Send for these emails), and that its client secret has not expired (Key Vault). Synchronization resumes by itself when access is back; to retry a group at once use Force on it (POST /api/groups/{groupId}/sync/force) or on a user (POST /api/users/{employeeId}/sync/force).',
        ].join('\n\n'),
      );
      break;
    case 'graph_access_recovered':
      toList(
        'Connect: Microsoft 365 access restored — synchronization resumes',
        [
          'What changed: Microsoft Graph accepts the app again; synchronization resumes for every group.',
          `Details: ${notice.detail}`,
          'What to do: nothing. Users suspended meanwhile stay suspended until you Force their sync (POST /api/users/{employeeId}/sync/force).',
        ].join('\n\n'),
      );
      break;
    case 'vantagepoint_credential_failing':
      toList(
        'Connect: the Vantagepoint API credential is failing — synchronization stopped',
        [
          'What stopped: every call Connect makes to Vantagepoint (member checks, sign-in of administrators) and therefore synchronization changes for every group.',
          'For whom: the whole organisation.',
          `Why: Vantagepoint refuses the service's API credential (for example after "Generate new secret" in Utilities > Integrations > API Authorization). ${notice.detail}`.trim(),
          'What to do: put the current client secret (and the service account password) into Key Vault, then Force a refresh: POST /api/connect/token/refresh ("Refresh" on Connect status). GET /api/connect/status shows the credential\'s health.',
        ].join('\n\n'),
      );
      break;
    case 'group_held':
      toList(
        `Connect: group ${notice.groupName} held — ${notice.count} members would stop synchronizing`,
        [
          `What stopped: the synchronization pass of group ${notice.groupName} (${notice.groupId}); nobody was removed.`,
          `For whom: ${notice.count} of the group's ${notice.activeMembers} active members would have been taken out of synchronization at once (the limit is ${notice.limit})${named(notice.people ?? [], notice.count)}.`,
          `Why: ${notice.detail}`,
          `What to do: if Vantagepoint's answer was wrong (an empty or truncated user list, a service account that sees no employees), fix it there; the hold clears by itself at the next check. If the removals are right, confirm them: POST /api/groups/${notice.groupId}/sync/confirm-removals ("Confirm removals" on the group).`,
        ].join('\n\n'),
      );
      break;
  }
  // One email per recipient: the list may name the user, and addresses differ only by case.
  const seen = new Set<string>();
  return mails
    .filter((m) => {
      const recipient = m.to.toLowerCase();
      if (seen.has(recipient)) return false;
      seen.add(recipient);
      return true;
    })
    .map((m) => ({ ...m, key: { recipient: m.to.toLowerCase(), cause: notice.cause, episode: notice.episode } }));
}
