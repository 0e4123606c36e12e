/**
 * Notification emails through Microsoft Graph: `POST /users/{sender}/sendMail` from the
 * configured sender mailbox (application permission Mail.Send). Graph answers 202 with
 * no body (https://learn.microsoft.com/en-us/graph/api/user-sendmail). Every answer
 * becomes a result; nothing is thrown for what Graph says.
 */
import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../config';
import type { Mailer, MailSendResult, OutgoingMail, SecretSource } from '../../ports';
import { CachedCredential, createGraphCredential, GRAPH_SCOPE, type RefreshableCredential } from './credential';
import { retryAfterMs } from './operations';

export interface MailerOptions {
  credential?: TokenCredential;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

function errorOf(body: unknown, status: number): { code: string; message: string } {
  const error = (typeof body === 'object' && body !== null ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined) ?? {};
  return {
    code: typeof error.code === 'string' ? error.code : `HTTP_${status}`,
    message: typeof error.message === 'string' ? error.message : `Graph answered ${status}.`,
  };
}

/** Graph addresses users by UPN in the path as-is ('@' included); anything else is escaped. */
const userSegment = (upn: string) => encodeURIComponent(upn).replace(/%40/g, '@');

class GraphMailer implements Mailer {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    private readonly baseUrl: string,
    readonly sender: string,
    private readonly credential: RefreshableCredential,
    options: MailerOptions,
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async send(mail: OutgoingMail): Promise<MailSendResult> {
    let token: string;
    try {
      token = (await this.credential.getToken(GRAPH_SCOPE)).token;
    } catch (err) {
      // The identity platform refusing the app (expired secret, no consent) will not heal by retrying soon.
      return { ok: false, failure: 'refused', status: 0, code: 'TokenRequestFailed', message: err instanceof Error ? err.message : String(err) };
    }
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}/users/${userSegment(this.sender)}/sendMail`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          message: {
            subject: mail.subject,
            body: { contentType: 'Text', content: mail.body },
            toRecipients: [{ emailAddress: { address: mail.to } }],
          },
          // Notices are not correspondence: keep the sender mailbox's Sent Items clean.
          saveToSentItems: false,
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { ok: false, failure: 'transient', status: 0, code: timedOut ? 'Timeout' : 'NetworkError', message: err instanceof Error ? err.message : String(err) };
    }
    if (response.status === 202 || response.ok) {
      await response.arrayBuffer();
      return { ok: true };
    }
    const body: unknown = await response.json().catch(() => null);
    const { code, message } = errorOf(body, response.status);
    if (response.status === 401) this.credential.invalidate();
    const transient = response.status === 429 || response.status === 408 || response.status >= 500 || response.status === 401;
    const retryAfter = retryAfterMs(response.headers);
    return { ok: false, failure: transient ? 'transient' : 'refused', status: response.status, code, message, ...(retryAfter !== null ? { retryAfterMs: retryAfter } : {}) };
  }
}

/** The mailer, or null when no sender is configured (notification emails are then off, and connect status says so). */
export function createMailer(config: Config, secrets: SecretSource, options: MailerOptions = {}): Mailer | null {
  const sender = config.NOTIFICATION_SENDER;
  if (!sender) return null;
  const credential = options.credential ? new CachedCredential(options.credential) : createGraphCredential(config, secrets, options.fetch);
  return new GraphMailer(config.GRAPH_BASE_URL, sender, credential, options);
}
