/**
 * The Graph emulator's mail: `POST /v1.0/users/{id | userPrincipalName}/sendMail` as
 * https://learn.microsoft.com/en-us/graph/api/user-sendmail documents it (application
 * permission Mail.Send; JSON body `{message, saveToSentItems}`; 202 Accepted with no
 * body), and what was sent, for tests and for people trying the stack:
 * `GET /emulator/mail` → `{value: [{from, to, subject, body, at}]}` (`to` lists the
 * message's toRecipients, in order) and `POST /emulator/mail/reset`.
 *
 * Refusals follow the emulator's mailbox rules for the sender: a sender whose local part
 * starts with `forbidden-` (or listed in forbiddenMailboxes) answers 403
 * ErrorAccessDenied, as Graph does when an application access policy excludes the
 * mailbox; `missing-` (or missingMailboxes) answers 404 MailboxNotEnabledForRESTAPI.
 */
import { z } from 'zod';

export interface SentMail {
  from: string;
  to: string[];
  subject: string;
  body: string;
  at: string;
}

export interface MailResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const error = (status: number, code: string, message: string): MailResponse => ({ status, body: { error: { code, message } } });

const recipient = z.object({ emailAddress: z.object({ address: z.string(), name: z.string().optional() }) });
const sendMailBody = z.object({
  message: z.object({
    subject: z.string().optional(),
    // Graph's itemBody: contentType text or html (the enum is case-insensitive on the wire)
    body: z.object({ contentType: z.string().regex(/^(text|html)$/i, 'text or html').default('text'), content: z.string() }).optional(),
    toRecipients: z.array(recipient).optional(),
    ccRecipients: z.array(recipient).optional(),
    bccRecipients: z.array(recipient).optional(),
  }),
  saveToSentItems: z.boolean().optional(),
});

const SEND_MAIL = /^\/users\/([^/?]+)\/sendMail\/?$/i;

/** The sender of a sendMail path (`/users/{sender}/sendMail`), or null when the path is something else. */
export function sendMailSender(method: string, path: string): string | null {
  if (method !== 'POST') return null;
  const match = SEND_MAIL.exec(path.split('?')[0] ?? '');
  return match?.[1] ? decodeURIComponent(match[1]).toLowerCase() : null;
}

export class EmulatedMail {
  private sent: SentMail[] = [];

  /** One sendMail call; `fault` answers the emulator's mailbox rules for the sender (null when none applies). */
  send(sender: string, body: unknown, now: number, fault: (mailbox: string) => MailResponse | null): MailResponse {
    const refused = fault(sender);
    if (refused) return refused;
    const parsed = sendMailBody.safeParse(body);
    if (!parsed.success) return error(400, 'ErrorInvalidRequest', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const { message } = parsed.data;
    const all = [...(message.toRecipients ?? []), ...(message.ccRecipients ?? []), ...(message.bccRecipients ?? [])];
    // Graph's wording for both, as its answers quote it (Microsoft documents no sendMail error list):
    // microsoftgraph/msgraph-sdk-dotnet#1891 (no recipients), microsoftgraph/ruby-connect-rest-sample#15 (unresolved).
    if (all.length === 0) return error(400, 'ErrorInvalidRecipients', "At least one recipient is not valid., A message can't be sent because it contains no recipients.");
    const unresolved = all.find((r) => !/^[^@\s]+@[^@\s]+$/.test(r.emailAddress.address));
    if (unresolved) {
      return error(400, 'ErrorInvalidRecipients', `At least one recipient isn't valid., Recipient "${unresolved.emailAddress.address}" isn't resolved. All recipients must be resolved before a message can be submitted.`);
    }
    this.sent.push({
      from: sender,
      to: (message.toRecipients ?? []).map((r) => r.emailAddress.address),
      subject: message.subject ?? '',
      body: message.body?.content ?? '',
      at: new Date(now).toISOString(),
    });
    return { status: 202 };
  }

  list(): SentMail[] {
    return this.sent.map((m) => ({ ...m, to: [...m.to] }));
  }

  reset(): void {
    this.sent = [];
  }
}

/** The control routes, keyed like the emulator's own (`METHOD /path`). */
export function mailControlRoutes<S>(mailOf: (state: S) => EmulatedMail): Record<string, (state: S) => Promise<MailResponse>> {
  return {
    'GET /emulator/mail': (state) => Promise.resolve({ status: 200, body: { value: mailOf(state).list() } }),
    'POST /emulator/mail/reset': (state) => {
      mailOf(state).reset();
      return Promise.resolve({ status: 204 });
    },
  };
}
