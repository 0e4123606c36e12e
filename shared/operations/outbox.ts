/**
 * The notification outbox. Producers (the reconciler, the sweep) put a notice on the
 * `notification-mail` queue and carry on: sending never happens on a request path.
 * The queue trigger turns a notice into emails and sends each one at most once per
 * (recipient, cause, episode), whatever the redeliveries: a claim in MailLog is taken
 * before sending and becomes a record once Graph accepted the email. A failed send is
 * given back and retried by a scheduled (delayed) message.
 */
import { composeNotice, type Notice } from '../domain/notices';
import { describe, type Log } from '../logging';
import type { NoticeMessage } from '../ports';
import type { Services } from '../services';
import { readSettings } from './settings';

type Deps = Pick<Services, 'storage' | 'mailer'>;

/** Deliveries of one notice, the first included; then it is given up (and logged). */
export const MAX_DELIVERY_ATTEMPTS = 6;
/** A claim older than this belongs to a delivery that died mid-send: another may take it over. */
export const CLAIM_STALE_MS = 2 * 60_000;
/** Delay before delivery attempt n+1 (seconds): 1 min, 5 min, 15 min, then hourly. */
const RETRY_DELAYS_SECONDS = [60, 300, 900, 3600];

export function retryDelaySeconds(attempt: number, retryAfterMs = 0): number {
  const planned = RETRY_DELAYS_SECONDS[Math.min(attempt, RETRY_DELAYS_SECONDS.length) - 1] ?? 3600;
  return Math.max(planned, Math.ceil(retryAfterMs / 1000));
}

/**
 * Puts a notice on the outbox. A queue outage is reported (false), never thrown: the
 * change that caused the notice already happened, and level-triggered producers try
 * again on their next pass.
 */
export async function publishNotice(deps: Pick<Services, 'storage'>, notice: Notice, ctx: { requestId: string; log: Log }): Promise<boolean> {
  try {
    await deps.storage.noticeQueue.publish({ notice, requestId: ctx.requestId, attempt: 1 });
    ctx.log('notify.queued', { cause: notice.cause, episode: notice.episode });
    return true;
  } catch (err) {
    ctx.log('notify.queue_failed', { cause: notice.cause, episode: notice.episode, error: describe(err) });
    return false;
  }
}

export interface DeliveryOutcome {
  sent: number;
  /** already sent by an earlier delivery */
  skipped: number;
  failed: number;
  retryScheduled: boolean;
}

/** The queue trigger's operation: one notice → its emails, each sent once. */
export async function deliverNotice(deps: Deps, message: NoticeMessage, options: { now: () => Date; log: Log }): Promise<DeliveryOutcome> {
  const { notice } = message;
  const outcome: DeliveryOutcome = { sent: 0, skipped: 0, failed: 0, retryScheduled: false };
  const settings = await readSettings(deps.storage.settings);
  const mails = composeNotice(notice, settings.notificationEmails);
  if (!deps.mailer || mails.length === 0) {
    options.log('notify.not_sent', { cause: notice.cause, episode: notice.episode, why: deps.mailer ? 'no recipients' : 'NOTIFICATION_SENDER is not set' });
    return outcome;
  }
  let retry = false;
  let retryAfterMs = 0;
  for (const mail of mails) {
    const now = options.now();
    const claim = await deps.storage.mailLog.claim(mail.key, now, CLAIM_STALE_MS);
    if (claim === 'sent') {
      outcome.skipped++;
      continue;
    }
    if (claim === 'busy') {
      // Another delivery is sending it now; if that one fails it gives the claim back, so look again later.
      retry = true;
      continue;
    }
    const result = await deps.mailer.send(mail);
    if (result.ok) {
      await deps.storage.mailLog.markSent(mail.key, options.now());
      await deps.storage.mailHealth.recordSent(options.now().toISOString());
      outcome.sent++;
      continue;
    }
    await deps.storage.mailLog.release(mail.key);
    await deps.storage.mailHealth.recordFailure(options.now().toISOString(), `Graph refused sendMail from ${deps.mailer.sender} (${result.status} ${result.code}): ${result.message}`);
    options.log('notify.send_failed', { cause: notice.cause, episode: notice.episode, failure: result.failure, status: result.status, code: result.code });
    outcome.failed++;
    retry = true;
    retryAfterMs = Math.max(retryAfterMs, result.retryAfterMs ?? 0);
  }
  if (retry) {
    if (message.attempt >= MAX_DELIVERY_ATTEMPTS) {
      options.log('notify.gave_up', { cause: notice.cause, episode: notice.episode, attempts: message.attempt });
    } else {
      // Throws when the queue is down: the trigger then redelivers this message, and the log keeps what was sent.
      await deps.storage.noticeQueue.publish({ ...message, attempt: message.attempt + 1 }, retryDelaySeconds(message.attempt, retryAfterMs));
      outcome.retryScheduled = true;
    }
  }
  options.log('notify.delivered', { cause: notice.cause, episode: notice.episode, attempt: message.attempt, ...outcome });
  return outcome;
}
